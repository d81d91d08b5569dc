// Package startgc turns the garbage collector off while the packages of the
// program initialise, and Resume turns it back on, to the setting GOGC asked
// for, when main starts.
//
// Package initialisation allocates megabytes of tables (the AWS SDK's
// service schemas, client-go's API scheme) that all stay live, so a
// collection during it finds nothing to free; it only costs time (about 8 of
// rotor's 42 ms of init). Go runs a package's init after those it imports
// and, among packages ready at once, in the order of their import paths, so
// the packages initialised before this one run with the collector on; main
// imports it first so that it is ready as early as its own imports allow.
//
// GOMEMLIMIT still applies while the collector is off: a program that
// reached its limit during init would collect then.
package startgc

import "runtime/debug"

// percent is the GOGC setting the program started with (100 by default,
// -1 when GOGC=off).
var percent = debug.SetGCPercent(-1)

// Resume restores the collector's setting. Main calls it first.
func Resume() { debug.SetGCPercent(percent) }
