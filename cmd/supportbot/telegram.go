package main

import (
	"context"
	"errors"
)

func (m *Main) runTelegram(ctx context.Context) error {
	return errors.New("telegram channel not wired yet")
}
