using System.Runtime.CompilerServices;
using Azure;
using Azure.Security.KeyVault.Secrets;
using WebhookFunctions.Core.Failures;

namespace WebhookFunctions.Core.Secrets;

/// <summary>Signing secrets in Azure Key Vault, one secret per webhook, a version per rotation.</summary>
public sealed class KeyVaultSecretStore(SecretClient client) : ISecretStore
{
    private const string ProbeName = "health-probe";

    public async Task<string> SetAsync(string name, string value, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        var secret = new KeyVaultSecret(name, value);
        secret.Properties.ContentType = "application/vnd.standardwebhooks.secret";
        foreach (var (key, tag) in tags)
        {
            secret.Properties.Tags[key] = tag;
        }

        try
        {
            var stored = await client.SetSecretAsync(secret, cancellationToken);
            return stored.Value.Properties.Version;
        }
        catch (RequestFailedException exception) when (exception.Status == 409)
        {
            // The name is deleted but recoverable: its webhook was deleted while this write was on its way.
            throw new ConflictException("The webhook was deleted while its secret was being written.");
        }
    }

    public async Task<string?> GetAsync(string name, string? version, CancellationToken cancellationToken)
    {
        try
        {
            var secret = await client.GetSecretAsync(name, version, cancellationToken);
            return secret.Value.Value;
        }
        catch (RequestFailedException exception) when (exception.Status == 404 || IsDisabled(exception))
        {
            return null;
        }
    }

    public async Task<int> RetireVersionsAsync(
        string name, IReadOnlyCollection<string> keep, DateTimeOffset writtenBefore, CancellationToken cancellationToken)
    {
        var retired = 0;
        await foreach (var version in client.GetPropertiesOfSecretVersionsAsync(name, cancellationToken))
        {
            if (version.Enabled == false || keep.Contains(version.Version, StringComparer.Ordinal)
                || version.CreatedOn is not { } created || created >= writtenBefore)
            {
                continue;
            }

            version.Enabled = false;
            await client.UpdateSecretPropertiesAsync(version, cancellationToken);
            retired++;
        }

        return retired;
    }

    /// <summary>A retired version: Key Vault answers a get of a disabled version with 403 SecretDisabled.</summary>
    private static bool IsDisabled(RequestFailedException exception) =>
        exception.Status == 403
        && exception.GetRawResponse()?.Content?.ToString().Contains("SecretDisabled", StringComparison.Ordinal) == true;

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            // Deletion finishes in the background; the name is never used again, so there is no need to wait.
            await client.StartDeleteSecretAsync(name, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
        }
    }

    public async IAsyncEnumerable<StoredSecret> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var properties in client.GetPropertiesOfSecretsAsync(cancellationToken))
        {
            if (properties.Name.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return new StoredSecret(
                    properties.Name,
                    new Dictionary<string, string>(properties.Tags),
                    properties.UpdatedOn ?? properties.CreatedOn ?? DateTimeOffset.MinValue);
            }
        }
    }

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await client.GetSecretAsync(ProbeName, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            // Reachable and authorised: the probe secret simply does not exist.
        }
    }
}
