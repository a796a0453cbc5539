package manifest

import "github.com/auditrelay/auditrelay/core/jsonv"

// Manifest is a decoded manifest.json. Field names follow the framework's
// schema; optional fields the manifest leaves out hold their zero value (or
// the schema default where one is documented).
type Manifest struct {
	Name                           string
	Version                        string
	Overview                       string
	Description                    string
	Details                        string
	Author                         string
	SupportEmail                   string
	Links                          Links
	Categories                     []string
	Icons                          Icons
	FormVariables                  []FormVariable
	Capabilities                   Capabilities
	Legacy                         *Legacy
	OtherCapabilities              []string
	RequiresOAuth                  bool
	HideOnIntegrationsPage         bool
	OAuthIntegrationKey            string
	AllowIntegrationConfigurations bool
}

// Links are the manifest's reference links.
type Links struct {
	Site             string
	LaunchdarklyDocs string
	PrivacyPolicy    string
	SupportWebsite   string
}

// Icons are the paths of the integration's SVG logos.
type Icons struct {
	Square     string
	Horizontal string
}

// Legacy marks an integration that replaces a legacy one.
type Legacy struct {
	Kind string
}

// Capabilities holds the audit-log events hook, decoded and validated, and
// every other capability as opaque JSON.
type Capabilities struct {
	AuditLogEventsHook *AuditLogEventsHook
	// Other holds the remaining capabilities (approval, trigger, flagLink,
	// ...) in manifest order, undecoded: auditrelay does not act on them.
	Other []RawCapability
}

// RawCapability is a capability auditrelay accepts but does not interpret.
type RawCapability struct {
	Name  string
	Value jsonv.Value
}

// AuditLogEventsHook is capabilities.auditLogEventsHook.
type AuditLogEventsHook struct {
	// Endpoint is nil only for deliveryMethod "custom".
	Endpoint  *Endpoint
	Templates Templates
	// DefaultPolicy is the raw policy statement array; core/policy parses
	// it. Its Offset is the position in manifest.json.
	DefaultPolicy            *RawPolicy
	IncludeErrorResponseBody bool
	// DeliveryMethod is "" (HTTP) or "custom" (a LaunchDarkly-internal
	// sink such as AWS CloudTrail Lake).
	DeliveryMethod            string
	UseStandardWebhookPayload bool
}

// DeliveryCustom is the only DeliveryMethod the schema allows.
const DeliveryCustom = "custom"

// RawPolicy is a policy statement array kept undecoded: core/policy
// parses it.
type RawPolicy struct {
	// Value is the decoded array; its offsets (Value.Offset, member
	// KeyOffset) are byte offsets into manifest.json.
	Value jsonv.Value
	// JSON is the array's exact text from manifest.json, starting at
	// byte Offset, which is line Line, column Col of File. A position
	// found in JSON maps back to the file by adding Offset.
	JSON      []byte
	Offset    int
	File      string
	Line, Col int
}

// Endpoint is the HTTP request to make. URL and header values are
// Handlebars templates; header names are literal.
type Endpoint struct {
	URL           string
	Method        string
	Headers       []HeaderTemplate
	HMACSignature *HMACSignature
}

// HeaderTemplate is one endpoint header; Value is a template.
type HeaderTemplate struct {
	Name  string
	Value string
}

// HMACSignature asks for a signature header over the request body.
type HMACSignature struct {
	HeaderName                string
	HMACSecretFormVariableKey string
}

// DefaultHMACHeader carries the signature when hmacSignature names no
// headerName: the header LaunchDarkly's own webhooks sign with.
const DefaultHMACHeader = "X-LD-Signature"

// Header is the header the signature goes in: HeaderName, or
// DefaultHMACHeader when that is empty.
func (s *HMACSignature) Header() string {
	if s.HeaderName == "" {
		return DefaultHMACHeader
	}
	return s.HeaderName
}

// Template keys of capabilities.auditLogEventsHook.templates.
const (
	TemplateFlag        = "flag"
	TemplateProject     = "project"
	TemplateEnvironment = "environment"
	TemplateMember      = "member"
	TemplateDefault     = "default"
	TemplateValidation  = "validation"
)

// TemplateKeys lists the template keys: the four kinds with their own
// template, then default and validation.
func TemplateKeys() []string {
	return []string{TemplateFlag, TemplateProject, TemplateEnvironment, TemplateMember, TemplateDefault, TemplateValidation}
}

// Templates maps template keys to file paths relative to the integration
// directory ("" when absent).
type Templates struct {
	Flag        string
	Project     string
	Environment string
	Member      string
	Default     string
	Validation  string
}

// Get returns the path for a template key, or "".
func (t Templates) Get(key string) string {
	switch key {
	case TemplateFlag:
		return t.Flag
	case TemplateProject:
		return t.Project
	case TemplateEnvironment:
		return t.Environment
	case TemplateMember:
		return t.Member
	case TemplateDefault:
		return t.Default
	case TemplateValidation:
		return t.Validation
	}
	return ""
}

func (t *Templates) set(key, path string) {
	switch key {
	case TemplateFlag:
		t.Flag = path
	case TemplateProject:
		t.Project = path
	case TemplateEnvironment:
		t.Environment = path
	case TemplateMember:
		t.Member = path
	case TemplateDefault:
		t.Default = path
	case TemplateValidation:
		t.Validation = path
	}
}

// Empty reports whether no template is named.
func (t Templates) Empty() bool { return t == Templates{} }

// ForKind returns the template key and path used for an entry of the given
// resource kind: the kind's own template for flag, project, environment and
// member, else default. Both are "" when nothing would be sent.
func (t Templates) ForKind(kind string) (key, path string) {
	switch kind {
	case TemplateFlag, TemplateProject, TemplateEnvironment, TemplateMember:
		if p := t.Get(kind); p != "" {
			return kind, p
		}
	}
	if t.Default != "" {
		return TemplateDefault, t.Default
	}
	return "", ""
}

// FormType is a form variable's type.
type FormType string

// The form-variable types of the schema.
const (
	TypeString              FormType = "string"
	TypeBoolean             FormType = "boolean"
	TypeURI                 FormType = "uri"
	TypeEnum                FormType = "enum"
	TypeOAuth               FormType = "oauth"
	TypeDynamicEnum         FormType = "dynamicEnum"
	TypeGenerated           FormType = "generated"
	TypeEnvironmentSelector FormType = "environmentSelector"
	TypeMultiselect         FormType = "multiselect"
	TypePublicKey           FormType = "publicKey"
)

var formTypes = []FormType{TypeString, TypeBoolean, TypeURI, TypeEnum, TypeOAuth, TypeDynamicEnum, TypeGenerated, TypeEnvironmentSelector, TypeMultiselect, TypePublicKey}

// InTemplateScope reports whether values of this type are put in the
// template context. The framework leaves out oauth, environmentSelector,
// multiselect and publicKey variables.
func (t FormType) InTemplateScope() bool {
	switch t {
	case TypeOAuth, TypeEnvironmentSelector, TypeMultiselect, TypePublicKey:
		return false
	}
	return true
}

// FormVariable is one entry of formVariables: a value the admin supplies
// when configuring the integration.
type FormVariable struct {
	Key         string
	Name        string
	Type        FormType
	Description string
	Placeholder string
	IsSecret    bool
	IsOptional  bool
	IsHidden    bool
	// DefaultValue is a string or boolean Value, or undefined when absent.
	DefaultValue              jsonv.Value
	AllowedValues             []string
	DynamicOptions            *DynamicOptions
	DependsOn                 []Dependency
	MultiselectOptions        []Option
	MultiselectDefaultOptions []string
	DisableAfterSaving        bool
	HideEmpty                 bool
}

// Required reports whether an operator must supply a value: the variable
// is not optional and has no way to default. Booleans never are, since an
// unticked box is false.
func (fv *FormVariable) Required() bool {
	return !fv.IsOptional && fv.Type != TypeBoolean && fv.Type != TypeOAuth
}

// DynamicOptions describes where a dynamicEnum loads its choices.
type DynamicOptions struct {
	Endpoint Endpoint
	Parser   OptionsParser
}

// OptionsParser maps a dynamic-options response to choices.
type OptionsParser struct {
	OptionsPath  string
	OptionsItems Option // Label and Value hold JSON-pointer-like paths
}

// Option is a label/value pair.
type Option struct {
	Label string
	Value string
}

// Dependency is UI show/hide logic for a form field.
type Dependency struct {
	VariableKey      string
	VariableLocation string
	Conditions       []Condition
	Action           string
}

// Condition is one test of a Dependency.
type Condition struct {
	Operator string
	Value    string
}

// FormVariable returns the variable with the given key, or nil.
func (m *Manifest) FormVariable(key string) *FormVariable {
	for i := range m.FormVariables {
		if m.FormVariables[i].Key == key {
			return &m.FormVariables[i]
		}
	}
	return nil
}

// Hook returns the audit-log events hook capability, or nil.
func (m *Manifest) Hook() *AuditLogEventsHook { return m.Capabilities.AuditLogEventsHook }
