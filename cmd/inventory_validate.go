package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kmsctl/kmsctl/inventory"
)

// InventoryValidateOptions are the inputs of `kmsctl inventory validate`.
type InventoryValidateOptions struct {
	IO     *IOStreams
	Path   string
	Output string
	Load   func(path string) (*inventory.Inventory, error)
}

// validation is the JSON document of `inventory validate -o json`.
type validation struct {
	Schema   string            `json:"schema"`
	File     string            `json:"file"`
	Valid    bool              `json:"valid"`
	Digest   string            `json:"digest,omitempty"`
	Nodes    []string          `json:"nodes"`
	Problems []validationIssue `json:"problems"`
}

type validationIssue struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func newCmdInventoryValidate(f *Factory, runF func(context.Context, *InventoryValidateOptions) error) *cobra.Command {
	opts := &InventoryValidateOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "validate -i FILE",
		Short: "Check an inventory file and list every problem",
		Long: `Check an inventory file: its shape, every value, duplicate nodes, that no
secret is written in it, and the local files it names (identity_file,
known_hosts, ssh_config, ca_cert, api_ca_cert, secret_file, jwt_file,
sudo_password_file): they exist and are readable, and files holding a secret
are not readable by group or others. Prints OK with the node count, or every problem as
FILE:LINE:COLUMN: FIELD: MESSAGE. Exit status 64 (usage) when the file is missing or invalid, as in every
command that reads an inventory.`,
		Example: "  kmsctl inventory validate -i inventory.yaml",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Path, opts.Output, opts.Load = f.Global.Inventory, f.Global.Output, f.LoadInventory
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runInventoryValidate(c.Context(), opts)
		},
	}
}

func runInventoryValidate(_ context.Context, opts *InventoryValidateOptions) error {
	if opts.Path == "" {
		return usageError(errors.New("pass the inventory to check with -i FILE"))
	}
	inv, err := opts.Load(opts.Path)
	if err == nil {
		err = inv.CheckFiles() // the local files it names
	}
	problems, ok := fieldErrors(err)
	if err != nil && !ok {
		return inventoryError(opts.Path, err)
	}
	v := validation{Schema: "kmsctl.inventory-validation/v1", File: opts.Path, Valid: err == nil, Nodes: []string{}, Problems: problems}
	if inv != nil {
		v.Digest = inv.Digest()
		for _, n := range inv.Nodes() {
			v.Nodes = append(v.Nodes, n.Name)
		}
	}
	if opts.Output == outputJSON {
		if werr := writeJSON(opts.IO.Out, v); werr != nil {
			return werr
		}
	} else if v.Valid {
		fmt.Fprintf(opts.IO.Out, "%s: OK, %d nodes\n", opts.Path, len(v.Nodes))
	} else {
		fmt.Fprintln(opts.IO.ErrOut, err)
		fmt.Fprintf(opts.IO.ErrOut, "%s: %d problems\n", opts.Path, len(problems))
	}
	if !v.Valid {
		return &ExitError{Code: ExitUsage}
	}
	return nil
}

// fieldErrors unpacks the problems of an inventory error; ok is false when
// err is something else (such as a missing file).
func fieldErrors(err error) ([]validationIssue, bool) {
	out := []validationIssue{}
	if err == nil {
		return out, true
	}
	errs := []error{err}
	if j, isJoin := err.(interface{ Unwrap() []error }); isJoin {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var fe *inventory.FieldError
		if !errors.As(e, &fe) {
			return nil, false
		}
		out = append(out, validationIssue{Line: fe.Line, Column: fe.Column, Field: fe.Field, Message: fe.Msg})
	}
	return out, true
}
