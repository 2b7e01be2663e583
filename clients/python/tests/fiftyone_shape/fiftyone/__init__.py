"""The part of FiftyOne the provider meets, shaped as FiftyOne has it (FiftyOne itself cannot be
installed where these tests run): `fiftyone.plugins.secrets.PluginSecretsResolver`, a singleton
whose `client` is the secret provider, and the way FiftyOne Teams' SecretsManager chains providers."""
