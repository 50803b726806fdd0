package cmd

import (
	"context"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/cmd/build"
)

// VersionOptions are the inputs of `kmsctl version`.
type VersionOptions struct {
	IO     *IOStreams
	Output string
}

// versionInfo is the JSON document of `kmsctl version -o json`.
type versionInfo struct {
	Schema  string `json:"schema"`
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Go      string `json:"go"`
}

func newCmdVersion(f *Factory, runF func(context.Context, *VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the kmsctl version, commit and build date",
		Args:  cobra.NoArgs,
		// version must answer even when the config file is broken.
		Annotations: map[string]string{annotNoConfig: "true"},
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Output = f.Global.Output
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runVersion(c.Context(), opts)
		},
	}
}

func runVersion(_ context.Context, opts *VersionOptions) error {
	st := build.Current()
	info := versionInfo{Schema: "kmsctl.version/v1", Version: st.Version, Commit: st.Commit, Date: st.Date, Go: runtime.Version()}
	if opts.Output == outputJSON {
		return writeJSON(opts.IO.Out, info)
	}
	_, err := fmt.Fprintf(opts.IO.Out, "kmsctl %s\ncommit: %s\nbuilt:  %s\ngo:     %s\n", info.Version, info.Commit, info.Date, info.Go)
	return err
}
