package infisical

// registeredAuthMethods lists the login methods of the registry. Adding a
// method is a verifier package under authn/, an adapter file
// auth_methods_<name>.go, and one line here.
func registeredAuthMethods() []authMethod {
	return []authMethod{
		awsMethod{},
		gcpMethod{},
		azureMethod{},
		kubernetesMethod{},
		oidcMethod{},
		jwtMethod{},
		ldapMethod{},
	}
}
