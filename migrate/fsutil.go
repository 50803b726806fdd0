package migrate

import (
	"errors"
	"io/fs"
)

func isNotExist(err error) bool { return err != nil && errors.Is(err, fs.ErrNotExist) }
