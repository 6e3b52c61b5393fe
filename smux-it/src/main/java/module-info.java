/**
 * A black-box consumer, built like an application: it requires smux.api and nothing else, and
 * finds the transports the way an application's module would (ServiceLoader on the module path).
 */
module smux.it {
    requires smux.api;
}
