//go:build !unix

package main

import "os"

// lockDemoDir takes no lock where flock is missing: two demos in one
// folder are then the user's to avoid.
func lockDemoDir(string) (*os.File, error) { return nil, nil }
