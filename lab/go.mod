module github.com/kmsctl/kmsctl/lab

go 1.26.0

require (
	github.com/hashicorp/vault/api v1.23.0
	github.com/minio/kms-go/kms v0.5.1-0.20250225090116-4e64ce8d0f35
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/crypto v0.59.0
	google.golang.org/protobuf v1.36.12
)

require (
	aead.dev/mem v0.2.0 // indirect
	aead.dev/mtls v0.2.1
	github.com/cenkalti/backoff/v4 v4.3.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.1 // indirect
	github.com/hashicorp/errwrap v1.1.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/hashicorp/go-rootcerts v1.0.2 // indirect
	github.com/hashicorp/go-secure-stdlib/parseutil v0.2.0 // indirect
	github.com/hashicorp/go-secure-stdlib/strutil v0.1.2 // indirect
	github.com/hashicorp/go-sockaddr v1.0.7 // indirect
	github.com/hashicorp/hcl v1.0.1-vault-7 // indirect
	github.com/mitchellh/go-homedir v1.1.0 // indirect
	github.com/mitchellh/mapstructure v1.5.0 // indirect
	github.com/ryanuber/go-glob v1.0.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0
	golang.org/x/text v0.44.0 // indirect
	golang.org/x/time v0.12.0 // indirect
)

require github.com/kmsctl/kmsctl v0.0.0

require (
	github.com/kevinburke/ssh_config v1.6.0 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/skeema/knownhosts v1.3.3 // indirect
)

replace github.com/kmsctl/kmsctl => ../
