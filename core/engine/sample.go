package engine

// sampleFlagToggle is the entry a connection test sends when the
// integration sends LaunchDarkly's standard payload or has no validation
// template: a flag turned on, in the shape of LaunchDarkly's audit log
// (GET /api/v2/auditlog/{id}). Its id says what it is, so a receiver
// that stores it can tell it apart.
const sampleFlagToggle = `{
  "_links": {
    "canonical": {"href": "/api/v2/flags/sample-project/sample-flag", "type": "application/json"},
    "parent": {"href": "/api/v2/auditlog", "type": "application/json"},
    "self": {"href": "/api/v2/auditlog/auditrelay-connection-test", "type": "application/json"},
    "site": {"href": "/sample-project/production/features/sample-flag", "type": "text/html"}
  },
  "_id": "auditrelay-connection-test",
  "_accountId": "auditrelay-sample-account",
  "date": 1737540002113,
  "accesses": [{"action": "updateOn", "resource": "proj/sample-project:env/production:flag/sample-flag"}],
  "kind": "flag",
  "name": "Sample flag",
  "description": "- Turned on the flag",
  "shortDescription": "",
  "comment": "auditrelay connection test",
  "subject": {
    "_links": {"self": {"href": "/api/v2/members/auditrelay-sample-member", "type": "application/json"}},
    "name": "auditrelay connection test",
    "avatarUrl": ""
  },
  "member": {
    "_links": {"self": {"href": "/api/v2/members/auditrelay-sample-member", "type": "application/json"}},
    "_id": "auditrelay-sample-member",
    "email": "connection-test@auditrelay.invalid",
    "firstName": "Connection",
    "lastName": "Test"
  },
  "titleVerb": "turned on the flag",
  "title": "[Connection Test](mailto:connection-test@auditrelay.invalid) turned on the flag [Sample flag](https://app.launchdarkly.com/sample-project/production/features/sample-flag) in ` + "`Production`" + `",
  "target": {
    "_links": {
      "canonical": {"href": "/api/v2/flags/sample-project/sample-flag", "type": "application/json"},
      "site": {"href": "/sample-project/production/features/sample-flag", "type": "text/html"}
    },
    "name": "Sample flag",
    "resources": ["proj/sample-project:env/production:flag/sample-flag"]
  },
  "parent": {
    "_links": {
      "canonical": {"href": "/api/v2/projects/sample-project", "type": "application/json"},
      "site": {"href": "/sample-project", "type": "text/html"}
    },
    "name": "Sample project",
    "resource": "proj/sample-project"
  }
}`
