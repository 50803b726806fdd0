// Command minkms is the lab's stand-in for the AIStor Key Manager server
// (docs/design.md, "The key-manager stand-in"). It is installed as
// /usr/local/bin/minkms on every lab node.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	os.Exit(standin.Run(context.Background(), standin.Options{
		Args:    os.Args[1:],
		Getenv:  os.Getenv,
		Stderr:  os.Stderr,
		Signals: signals,
	}))
}
