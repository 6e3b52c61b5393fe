package smux.engine;

/**
 * The frame commands of the smux wire protocol, as the byte that goes in a header's CMD field.
 * SYN..NOP exist in both versions, UPD in version 2 only; VRM is this project's probe frame,
 * sent only to a peer known to be this library (xtaci/smux treats it as a protocol error).
 */
public final class Command {
    /** Opens stream STREAMID. No payload. */
    public static final int SYN = 0;
    /** The sender will write no more on stream STREAMID (half-close). No payload. */
    public static final int FIN = 1;
    /** Data for stream STREAMID; LENGTH 0 is legal and ignored. */
    public static final int PSH = 2;
    /** Keepalive on stream 0. No payload. */
    public static final int NOP = 3;
    /** Version 2 window update: CONSUMED u32, WINDOW u32. */
    public static final int UPD = 4;
    /** Probe / ping on stream 0: V1 u32, V2 u32; answered with verifyCode(V1, V2). */
    public static final int VRM = 0x7F;

    private Command() {
    }

    /**
     * Names a command byte for messages and listings.
     *
     * @param cmd the CMD byte
     * @return its name, or {@code 0xNN} for an unknown byte
     */
    public static String name(int cmd) {
        switch (cmd) {
            case SYN: return "SYN";
            case FIN: return "FIN";
            case PSH: return "PSH";
            case NOP: return "NOP";
            case UPD: return "UPD";
            case VRM: return "VRM";
            default: return String.format("0x%02X", cmd & 0xFF);
        }
    }
}
