package main

import (
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/hashicorp/vault/api"
	_ "github.com/pmezard/go-difflib/difflib"
	_ "github.com/skeema/knownhosts"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/cobra/doc"
	_ "github.com/spf13/viper"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/crypto/ssh"
	_ "golang.org/x/crypto/ssh/agent"
	_ "golang.org/x/term"
	_ "google.golang.org/protobuf/encoding/protowire"
)

func main() {}
