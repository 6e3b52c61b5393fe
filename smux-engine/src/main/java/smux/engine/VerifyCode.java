package smux.engine;

/**
 * The probe's transform, exactly as the seed gives it. Bytes b1..b4 are taken most significant
 * first:
 *
 * <pre>
 *   v1: (b1,b2,b3,b4) -> (b3,b4,b2,b1)
 *   v2: (b1,b2,b3,b4) -> (b1,b4,b2,b3)
 * </pre>
 *
 * A peer proves it speaks this library's protocol by answering {@code VRM{v1, v2}} with
 * {@code VRM{answer1(v1), answer2(v2)}}.
 */
public final class VerifyCode {
    private VerifyCode() {
    }

    /**
     * @param v1 the first probe value
     * @return (b3,b4,b2,b1) of {@code v1}
     */
    public static int answer1(int v1) {
        return (v1 & 0xFFFF) << 16 | v1 >>> 24 | (v1 & 0xFF0000) >>> 8;
    }

    /**
     * @param v2 the second probe value
     * @return (b1,b4,b2,b3) of {@code v2}
     */
    public static int answer2(int v2) {
        return v2 & 0xFF000000 | (v2 & 0xFF0000) >>> 8 | (v2 & 0xFF00) >>> 8 | (v2 & 0xFF) << 16;
    }
}
