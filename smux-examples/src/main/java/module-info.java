/** The README's example: an application module that requires smux.api and nothing else. */
module smux.examples {
    requires smux.api;
}
