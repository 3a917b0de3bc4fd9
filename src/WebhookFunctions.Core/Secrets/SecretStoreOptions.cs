namespace WebhookFunctions.Core.Secrets;

/// <summary>Key Vault settings (section <c>KeyVault</c>).</summary>
public sealed class KeyVaultOptions
{
    public const string Section = "KeyVault";

    /// <summary>The vault, e.g. https://name.vault.azure.net. Required outside Development.</summary>
    public Uri? VaultUri { get; set; }

    public int NetworkTimeoutSeconds { get; set; } = 5;

    public int MaxRetries { get; set; } = 2;
}

/// <summary>The Development-only local secret store (section <c>LocalSecrets</c>).</summary>
public sealed class LocalSecretsOptions
{
    public const string Section = "LocalSecrets";

    /// <summary>Base64 of a 32-byte AES key. When empty, <see cref="KeyFile"/> is used (and created).</summary>
    public string? Key { get; set; }

    /// <summary>Where the generated key is kept; relative paths are under the content root.</summary>
    public string KeyFile { get; set; } = ".local/local-secrets.key";
}
