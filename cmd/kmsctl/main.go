// Command kmsctl operates and migrates AIStor Key Manager clusters; see
// `kmsctl --help` and docs/cli/.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kmsctl/kmsctl/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Main(ctx, cmd.NewFactory(), os.Args[1:])
	stop()
	os.Exit(code)
}
