package main

// One source, two xtaci/smux releases. v1.5.16 (Debian's) and v1.5.58 differ in
// their exported API; everything that exists only in newer releases is reached
// through an interface assertion here, so the program compiles against both and
// reports at start what the linked release can do.

import (
	"runtime/debug"

	"github.com/xtaci/smux"
)

const smuxModulePath = "github.com/xtaci/smux"

// halfCloser is Stream.CloseWrite: send FIN, keep reading (newer releases only).
type halfCloser interface {
	CloseWrite() error
}

// closeNotifier is Session.CloseChan (newer releases only).
type closeNotifier interface {
	CloseChan() <-chan struct{}
}

// features lists the optional APIs of the linked smux release.
type features struct {
	HalfClose bool `json:"halfClose"`
	CloseChan bool `json:"closeChan"`
}

func detectFeatures() features {
	// A typed nil is enough: an assertion looks at the method set, not the value.
	var st interface{} = (*smux.Stream)(nil)
	var se interface{} = (*smux.Session)(nil)
	_, hc := st.(halfCloser)
	_, cc := se.(closeNotifier)
	return features{HalfClose: hc, CloseChan: cc}
}

// smuxVersion is the version of xtaci/smux this binary was built with, read
// from the module information the Go toolchain embeds; it is what tells a
// Java test which of the two pinned releases it is talking to.
func smuxVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path != smuxModulePath {
			continue
		}
		if dep.Replace != nil && dep.Replace.Version != "" {
			return dep.Replace.Version
		}
		return dep.Version
	}
	return "unknown"
}
