//go:build cgo

package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/infisical-go/engine/kms"
)

// Provider wraps the root key with keys held by a PKCS#11 token. It keeps
// one logged-in session; PKCS#11 sessions are not safe for concurrent use,
// so operations are serialised (they are rare: start-up, new organizations,
// rotation).
type Provider struct {
	cfg  Config
	ctx  *p11.Ctx
	slot uint

	mu      sync.Mutex
	session p11.SessionHandle
	open    bool
	aesKey  p11.ObjectHandle
	macKey  p11.ObjectHandle
	closed  bool
}

// Open loads the library, logs in to the slot, creates the AES and HMAC keys
// when missing and runs the self-test (500 random bytes round trip, and the
// token must support CKM_AES_CBC_PAD).
func Open(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lib, err := acquireLibrary(cfg.LibPath)
	if err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, ctx: lib}
	if err := p.start(ctx); err != nil {
		p.Close()
		return nil, err
	}
	if err := kms.SelfTest(ctx, p, SelfTestSize); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Provider) start(ctx context.Context) error {
	slots, err := p.ctx.GetSlotList(true)
	if err != nil {
		return fmt.Errorf("pkcs11: list slots: %w", err)
	}
	if p.cfg.Slot >= len(slots) {
		return fmt.Errorf("pkcs11: HSM_SLOT %d is out of range: %d slot(s) with a token", p.cfg.Slot, len(slots))
	}
	p.slot = slots[p.cfg.Slot]
	mechs, err := p.ctx.GetMechanismList(p.slot)
	if err != nil {
		return fmt.Errorf("pkcs11: list mechanisms: %w", err)
	}
	need := map[uint]string{p11.CKM_AES_CBC_PAD: "CKM_AES_CBC_PAD", p11.CKM_SHA256_HMAC: "CKM_SHA256_HMAC"}
	for _, m := range mechs {
		delete(need, m.Mechanism)
	}
	if len(need) > 0 {
		missing := make([]string, 0, len(need))
		for _, name := range need {
			missing = append(missing, name)
		}
		return fmt.Errorf("pkcs11: the token does not support %v", missing)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.connectLocked(ctx); err != nil {
		return err
	}
	return p.ensureKeysLocked()
}

// connectLocked opens a read-write session and logs in, retrying every
// RetryInterval up to RetryTimeout (the HSM may be starting or busy); a
// wrong PIN aborts at once so the token is not locked by retries.
func (p *Provider) connectLocked(ctx context.Context) error {
	if p.open {
		_ = p.ctx.CloseSession(p.session)
		p.open = false
	}
	deadline := time.Now().Add(p.cfg.RetryTimeout)
	var last error
	for {
		s, err := p.ctx.OpenSession(p.slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
		if err == nil {
			err = p.ctx.Login(s, p11.CKU_USER, p.cfg.PIN)
			if err == nil || isCode(err, p11.CKR_USER_ALREADY_LOGGED_IN) {
				p.session, p.open = s, true
				return nil
			}
			_ = p.ctx.CloseSession(s)
			if isCode(err, p11.CKR_PIN_INCORRECT) || isCode(err, p11.CKR_PIN_LOCKED) {
				return fmt.Errorf("pkcs11: login to slot index %d: %w (check HSM_PIN)", p.cfg.Slot, err)
			}
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("pkcs11: no session on slot index %d after %s: %w", p.cfg.Slot, p.cfg.RetryTimeout, last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pkcs11: open session: %w (last error: %v)", ctx.Err(), last)
		case <-time.After(p.cfg.RetryInterval):
		}
	}
}

// ensureKeysLocked finds the AES and HMAC keys by label, creating them when
// missing: token objects, private, sensitive, never extractable.
func (p *Provider) ensureKeysLocked() error {
	var err error
	if p.aesKey, err = p.findOrCreateLocked(p.cfg.KeyLabel, p11.CKK_AES, p11.CKM_AES_KEY_GEN,
		[]*p11.Attribute{p11.NewAttribute(p11.CKA_ENCRYPT, true), p11.NewAttribute(p11.CKA_DECRYPT, true)}); err != nil {
		return err
	}
	if p.macKey, err = p.findOrCreateLocked(hmacLabel(p.cfg.KeyLabel), p11.CKK_GENERIC_SECRET, p11.CKM_GENERIC_SECRET_KEY_GEN,
		[]*p11.Attribute{p11.NewAttribute(p11.CKA_SIGN, true), p11.NewAttribute(p11.CKA_VERIFY, true)}); err != nil {
		return err
	}
	return nil
}

func (p *Provider) findOrCreateLocked(label string, keyType, genMech uint, usage []*p11.Attribute) (p11.ObjectHandle, error) {
	find := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, keyType),
		p11.NewAttribute(p11.CKA_LABEL, label),
	}
	if err := p.ctx.FindObjectsInit(p.session, find); err != nil {
		return 0, fmt.Errorf("pkcs11: find key %q: %w", label, err)
	}
	objs, _, err := p.ctx.FindObjects(p.session, 2)
	_ = p.ctx.FindObjectsFinal(p.session)
	if err != nil {
		return 0, fmt.Errorf("pkcs11: find key %q: %w", label, err)
	}
	if len(objs) > 1 {
		return 0, fmt.Errorf("pkcs11: more than one key labelled %q on the token", label)
	}
	if len(objs) == 1 {
		return objs[0], nil
	}
	tmpl := append([]*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, keyType),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_VALUE_LEN, 32),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
	}, usage...)
	h, err := p.ctx.GenerateKey(p.session, []*p11.Mechanism{p11.NewMechanism(genMech, nil)}, tmpl)
	if err != nil {
		return 0, fmt.Errorf("pkcs11: create key %q: %w", label, err)
	}
	return h, nil
}

// Strategy implements kms.RootKey.
func (p *Provider) Strategy() string { return kms.StrategyHSM }

// Wrap implements kms.RootKey: IV ‖ AES-CBC-PAD ciphertext ‖ HMAC-SHA256.
func (p *Provider) Wrap(ctx context.Context, plaintext []byte) ([]byte, error) {
	var out []byte
	err := p.do(ctx, func() error {
		iv, err := p.ctx.GenerateRandom(p.session, ivSize)
		if err != nil {
			return err
		}
		if err := p.ctx.EncryptInit(p.session, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_CBC_PAD, iv)}, p.aesKey); err != nil {
			return err
		}
		ct, err := p.ctx.Encrypt(p.session, plaintext)
		if err != nil {
			return err
		}
		blob := make([]byte, 0, len(iv)+len(ct)+macSize)
		blob = append(append(blob, iv...), ct...)
		if err := p.ctx.SignInit(p.session, []*p11.Mechanism{p11.NewMechanism(p11.CKM_SHA256_HMAC, nil)}, p.macKey); err != nil {
			return err
		}
		mac, err := p.ctx.Sign(p.session, blob)
		if err != nil {
			return err
		}
		out = append(blob, mac...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: wrap: %w", err)
	}
	return out, nil
}

// errAuth marks a blob whose HMAC or padding does not verify.
var errAuth = errors.New("pkcs11: blob authentication failed")

// Unwrap implements kms.RootKey. The HMAC is verified before decrypting;
// every failure to authenticate or decrypt is the generic kms.ErrDecrypt.
func (p *Provider) Unwrap(ctx context.Context, blob []byte) ([]byte, error) {
	if len(blob) < ivSize+16+macSize || (len(blob)-ivSize-macSize)%16 != 0 {
		return nil, kms.ErrDecrypt
	}
	body, mac := blob[:len(blob)-macSize], blob[len(blob)-macSize:]
	var out []byte
	err := p.do(ctx, func() error {
		if err := p.ctx.VerifyInit(p.session, []*p11.Mechanism{p11.NewMechanism(p11.CKM_SHA256_HMAC, nil)}, p.macKey); err != nil {
			return err
		}
		if err := p.ctx.Verify(p.session, body, mac); err != nil {
			if isCode(err, p11.CKR_SIGNATURE_INVALID) || isCode(err, p11.CKR_SIGNATURE_LEN_RANGE) {
				return errAuth
			}
			return err
		}
		if err := p.ctx.DecryptInit(p.session, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_CBC_PAD, body[:ivSize])}, p.aesKey); err != nil {
			return err
		}
		pt, err := p.ctx.Decrypt(p.session, body[ivSize:])
		if err != nil {
			if isCode(err, p11.CKR_ENCRYPTED_DATA_INVALID) || isCode(err, p11.CKR_ENCRYPTED_DATA_LEN_RANGE) {
				return errAuth
			}
			return err
		}
		out = pt
		return nil
	})
	if err != nil {
		if errors.Is(err, errAuth) {
			return nil, kms.ErrDecrypt
		}
		return nil, fmt.Errorf("%w (pkcs11: %v)", kms.ErrDecrypt, err)
	}
	return out, nil
}

// Random implements kms.RandomSource: the root key is drawn from the HSM.
func (p *Provider) Random(ctx context.Context, n int) ([]byte, error) {
	var out []byte
	err := p.do(ctx, func() error {
		b, err := p.ctx.GenerateRandom(p.session, n)
		out = b
		return err
	})
	return out, err
}

// do runs op on the session. If the session was lost (HSM restart, network
// HSM failover) it reconnects, re-finds the keys and runs op once more.
func (p *Provider) do(ctx context.Context, op func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("pkcs11: provider closed")
	}
	err := op()
	if err == nil || !sessionLost(err) {
		return err
	}
	if cerr := p.connectLocked(ctx); cerr != nil {
		return fmt.Errorf("%w (reconnect: %v)", err, cerr)
	}
	if kerr := p.ensureKeysLocked(); kerr != nil {
		return kerr
	}
	return op()
}

// Close logs out and unloads the library.
func (p *Provider) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.open {
		_ = p.ctx.Logout(p.session)
		_ = p.ctx.CloseSession(p.session)
		p.open = false
	}
	releaseLibrary(p.cfg.LibPath)
	return nil
}

// A PKCS#11 library is initialised once per process (C_Initialize and
// C_Finalize are process-wide), but two providers may use the same library
// at once: rotating from one HSM key label to another. The loaded libraries
// are therefore shared and reference-counted; this is the one piece of
// package state, mirroring the library's own process-wide state.
var libs = struct {
	sync.Mutex
	m map[string]*libRef
}{m: map[string]*libRef{}}

type libRef struct {
	ctx  *p11.Ctx
	refs int
}

func acquireLibrary(path string) (*p11.Ctx, error) {
	libs.Lock()
	defer libs.Unlock()
	if r, ok := libs.m[path]; ok {
		r.refs++
		return r.ctx, nil
	}
	c := p11.New(path)
	if c == nil {
		return nil, fmt.Errorf("pkcs11: cannot load PKCS#11 library %s", path)
	}
	if err := c.Initialize(); err != nil && !isCode(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		c.Destroy()
		return nil, fmt.Errorf("pkcs11: initialize %s: %w", path, err)
	}
	libs.m[path] = &libRef{ctx: c, refs: 1}
	return c, nil
}

func releaseLibrary(path string) {
	libs.Lock()
	defer libs.Unlock()
	r, ok := libs.m[path]
	if !ok {
		return
	}
	if r.refs--; r.refs > 0 {
		return
	}
	delete(libs.m, path)
	_ = r.ctx.Finalize()
	r.ctx.Destroy()
}

func isCode(err error, code uint) bool {
	var e p11.Error
	return errors.As(err, &e) && uint(e) == code
}

// sessionLost reports errors after which a new session may succeed.
func sessionLost(err error) bool {
	for _, c := range []uint{p11.CKR_SESSION_HANDLE_INVALID, p11.CKR_SESSION_CLOSED, p11.CKR_USER_NOT_LOGGED_IN,
		p11.CKR_DEVICE_REMOVED, p11.CKR_DEVICE_ERROR, p11.CKR_TOKEN_NOT_PRESENT, p11.CKR_OBJECT_HANDLE_INVALID,
		p11.CKR_KEY_HANDLE_INVALID} {
		if isCode(err, c) {
			return true
		}
	}
	return false
}
