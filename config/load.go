package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Load loads a config file, or every *.yaml and *.yml file directly inside a
// directory in name order. It returns the problems of all files at once, and
// no watches if there is any problem.
func Load(path string) ([]*Watch, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	if !info.IsDir() {
		w, err := LoadFile(path)
		if err != nil {
			return nil, err
		}
		return []*Watch{w}, nil
	}

	files, err := configFiles(path)
	if err != nil {
		return nil, err
	}
	var (
		watches []*Watch
		errs    []error
		byName  = map[string]*Watch{}
	)
	for _, file := range files {
		w, err := LoadFile(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if first, ok := byName[w.Name]; ok {
			errs = append(errs, fmt.Errorf("duplicate watch name %q in %s and %s", w.Name, first.File, w.File))
			continue
		}
		byName[w.Name] = w
		watches = append(watches, w)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return watches, nil
}

// configFiles lists the config files directly inside dir. It follows
// symlinks because a mounted ConfigMap consists of symlinks into a hidden
// "..data" directory.
func configFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, pathError(dir, err)
	}
	var files []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if ext != ".yaml" && ext != ".yml" {
			continue
		}
		file := filepath.Join(dir, e.Name())
		info, err := os.Stat(file)
		if err != nil {
			return nil, pathError(file, err)
		}
		if info.Mode().IsRegular() {
			files = append(files, file)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no *.yaml or *.yml files in directory", dir)
	}
	return files, nil
}

// LoadFile loads and validates one config file. Every problem of the file is
// reported, one per line, prefixed with path.
func LoadFile(path string) (*Watch, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	raw, errs, failed := decode(data)
	if raw != nil {
		values, err := decodeValues(data, "values")
		if err != nil {
			errs = append(errs, err)
		}
		override, err := decodeValues(data, "overrideValues")
		if err != nil {
			errs = append(errs, err)
		}
		w, verrs := validate(path, raw, failed)
		errs = append(errs, verrs...)
		if len(override) > 0 && w.Chart == "" {
			errs = append(errs, errors.New("overrideValues: only charts take it (templates read .Values and the owner directly)"))
		}
		if len(errs) == 0 {
			w.Values = values
			if len(override) > 0 {
				w.OverrideValues = override
			}
			return w, nil
		}
	}
	for i, err := range errs {
		errs[i] = fmt.Errorf("%s: %w", path, err)
	}
	return nil, errors.Join(errs...)
}

// pathError drops the operation from a *fs.PathError: "x: no such file or
// directory" rather than "open x: no such file or directory".
func pathError(path string, err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}
