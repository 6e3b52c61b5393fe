package smux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The probe's transform against the six vectors of SPEC.md section 4 (computed with the seed's Go code). */
class VerifyCodeTest {

    @ParameterizedTest(name = "{0},{1} -> {2},{3}")
    @CsvSource({
        "00000000, 00000000, 00000000, 00000000",
        "01020304, 01020304, 03040201, 01040203",
        "FFFFFFFF, FFFFFFFF, FFFFFFFF, FFFFFFFF",
        "DEADBEEF, CAFEBABE, BEEFADDE, CABEFEBA",
        "80000001, 7FFFFFFE, 00010080, 7FFEFFFF",
        "12345678, 9ABCDEF0, 56783412, 9AF0BCDE",
    })
    void matchesTheSeedsVectors(String v1, String v2, String v11, String v22) {
        assertEquals(hex(v11), VerifyCode.answer1(hex(v1)), "answer1(" + v1 + ")");
        assertEquals(hex(v22), VerifyCode.answer2(hex(v2)), "answer2(" + v2 + ")");
    }

    private static int hex(String s) {
        return Integer.parseUnsignedInt(s, 16);
    }
}
