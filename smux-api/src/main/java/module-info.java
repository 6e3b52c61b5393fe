/**
 * smux for Java: many ordered, flow-controlled byte streams over one TCP connection,
 * wire-compatible with Go xtaci/smux versions 1 and 2. The only module an application requires.
 */
module smux.api {
    exports smux.api;
}
