package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The parts of a load run, as pprof labels "part" name them. The goroutines
// a labelled one starts inherit its label.
const (
	partBot       = "bot"
	partPortal    = "demo-portal"
	partBotAPI    = "fake-bot-api"
	partLoad      = "load-generator"
	partUnlabeled = "runtime" // GC, the scheduler: no part's own work
)

// cpuByPart sums the CPU time of a CPU profile, as runtime/pprof writes it
// (gzipped profile.proto), by the "part" label of its samples. Goroutines
// that timers start (time.AfterFunc: the store's removal of delivered
// replies, the typing indicator) carry no label; their samples are charged
// by their stack, to the bot if they ran this module's or bbolt's code (the
// demo portal if its own), else to partUnlabeled.
func cpuByPart(profile []byte) (map[string]time.Duration, error) {
	zr, err := gzip.NewReader(bytes.NewReader(profile))
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %v", err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %v", err)
	}

	// profile.proto: Profile{1 sample_type, 2 sample, 4 location,
	// 5 function, 6 string_table}. The string table comes last, so keep
	// the messages until it is read.
	var types, samples, locations, functions [][]byte
	var strs []string
	err = pbFields(data, func(num int, _ uint64, b []byte) error {
		switch num {
		case 1:
			types = append(types, b)
		case 2:
			samples = append(samples, b)
		case 4:
			locations = append(locations, b)
		case 5:
			functions = append(functions, b)
		case 6:
			strs = append(strs, string(b))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %v", err)
	}
	str := func(i uint64) string {
		if i < uint64(len(strs)) {
			return strs[i]
		}
		return ""
	}

	// The value that is CPU time: ValueType{1 type, 2 unit}.
	cpu := -1
	for i, b := range types {
		pbFields(b, func(num int, v uint64, _ []byte) error {
			if num == 1 && str(v) == "cpu" {
				cpu = i
			}
			return nil
		})
	}
	if cpu < 0 {
		return nil, errors.New("cpu profile: no cpu values")
	}

	// Function{1 id, 2 name}; Location{1 id, 4 line: Line{1 function_id}}.
	funcName := map[uint64]string{}
	for _, b := range functions {
		var id, name uint64
		pbFields(b, func(num int, v uint64, _ []byte) error {
			switch num {
			case 1:
				id = v
			case 2:
				name = v
			}
			return nil
		})
		funcName[id] = str(name)
	}
	locPart := map[uint64]string{} // the part a frame's code belongs to, if any
	for _, b := range locations {
		var id uint64
		var part string
		pbFields(b, func(num int, v uint64, line []byte) error {
			switch num {
			case 1:
				id = v
			case 4:
				pbFields(line, func(num int, v uint64, _ []byte) error {
					if num == 1 && part == "" {
						part = codePart(funcName[v])
					}
					return nil
				})
			}
			return nil
		})
		if part != "" {
			locPart[id] = part
		}
	}

	// Sample{1 location_id, 2 value, 3 label: Label{1 key, 2 str}}.
	out := map[string]time.Duration{}
	for _, b := range samples {
		var locs, values []uint64
		var part string
		err := pbFields(b, func(num int, v uint64, lb []byte) error {
			switch num {
			case 1:
				return pbVarints(&locs, v, lb)
			case 2:
				return pbVarints(&values, v, lb)
			case 3:
				var key, val uint64
				pbFields(lb, func(num int, v uint64, _ []byte) error {
					switch num {
					case 1:
						key = v
					case 2:
						val = v
					}
					return nil
				})
				if str(key) == "part" {
					part = str(val)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cpu profile: sample: %v", err)
		}
		if cpu >= len(values) {
			continue
		}
		if part == "" {
			part = partUnlabeled
			for _, l := range locs {
				if p := locPart[l]; p != "" {
					part = p
					break
				}
			}
		}
		out[part] += time.Duration(values[cpu])
	}
	return out, nil
}

// codePart is the part whose code the function named name is, "" if none
// in particular (the runtime, the standard library).
func codePart(name string) string {
	switch {
	case strings.HasPrefix(name, "supportbot/portal/demo."):
		return partPortal
	case strings.HasPrefix(name, "supportbot/"), strings.HasPrefix(name, "go.etcd.io/bbolt"),
		strings.HasPrefix(name, "github.com/go-telegram/"):
		return partBot
	}
	return ""
}

// pbFields calls fn for each field of the protobuf message b: its number,
// and its value (varint and fixed-size fields) or its bytes
// (length-delimited ones).
func pbFields(b []byte, fn func(num int, v uint64, b []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errors.New("bad field key")
		}
		b = b[n:]
		num := int(key >> 3)
		var v uint64
		var payload []byte
		switch key & 7 {
		case 0: // varint
			v, n = binary.Uvarint(b)
			if n <= 0 {
				return errors.New("bad varint")
			}
			b = b[n:]
		case 1: // 64-bit
			if len(b) < 8 {
				return io.ErrUnexpectedEOF
			}
			v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2: // length-delimited
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return io.ErrUnexpectedEOF
			}
			payload, b = b[n:n+int(l)], b[n+int(l):]
		case 5: // 32-bit
			if len(b) < 4 {
				return io.ErrUnexpectedEOF
			}
			v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return fmt.Errorf("unsupported wire type %d", key&7)
		}
		if err := fn(num, v, payload); err != nil {
			return err
		}
	}
	return nil
}

// pbVarints appends a repeated varint field's values to dst: one value v,
// or the packed values in b.
func pbVarints(dst *[]uint64, v uint64, b []byte) error {
	if b == nil {
		*dst = append(*dst, v)
		return nil
	}
	for len(b) > 0 {
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return errors.New("bad packed varint")
		}
		*dst = append(*dst, x)
		b = b[n:]
	}
	return nil
}
