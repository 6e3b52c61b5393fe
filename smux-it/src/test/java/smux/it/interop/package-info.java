/**
 * Live interoperability with Go xtaci/smux (v1.5.16 and v1.5.58), in both directions, through
 * {@code smux.api} only. Overview, results and how to run the throughput bench: {@code docs/INTEROP.md}.
 *
 * <ul>
 *   <li>{@link smux.it.interop.GoPeer}: builds {@code interop/}'s Go peer into {@code target/go/} on first
 *       use (no Go toolchain: the tests fail, never skip), runs it, parses its JSON events, freezes it.</li>
 *   <li>{@link smux.it.interop.JavaModes}, {@link smux.it.interop.JavaServer}: the Java side of the peer's
 *       modes (echo, discard, source, checksum, script), hashing both directions of every stream.</li>
 *   <li>{@link smux.it.interop.Exchange}: one exchange in a {@link smux.it.interop.Combo}'s direction, and the
 *       stream-by-stream comparison of both sides' reports.</li>
 *   <li>{@link smux.it.interop.FrameRelay}: a recording TCP relay (frame listings, window audit).</li>
 *   <li>Tests: {@link smux.it.interop.InteropMatrixTest}, {@link smux.it.interop.KeepaliveInteropTest},
 *       {@link smux.it.interop.WindowInteropTest}, {@link smux.it.interop.ScriptedFramesTest}; the bench
 *       {@link smux.it.interop.InteropThroughputBench} runs only on request.</li>
 * </ul>
 */
package smux.it.interop;
