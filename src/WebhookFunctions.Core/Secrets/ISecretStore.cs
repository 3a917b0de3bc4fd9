namespace WebhookFunctions.Core.Secrets;

/// <summary>Where signing secrets live: Key Vault in Azure, an encrypted Azurite table in Development.</summary>
public interface ISecretStore
{
    /// <summary>Stores a new version of <paramref name="name"/> and returns that version's id.</summary>
    Task<string> SetAsync(string name, string value, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken);

    /// <summary>Reads one version (the latest when <paramref name="version"/> is null); null when absent.</summary>
    Task<string?> GetAsync(string name, string? version, CancellationToken cancellationToken);

    /// <summary>
    /// Retires every version of <paramref name="name"/> written before <paramref name="writtenBefore"/>
    /// except those in <paramref name="keep"/>, so that a secret does not pile up a version per rotation
    /// (the local store deletes them; Key Vault cannot delete one version, so it disables them). A
    /// retired version reads as absent. Returns how many were retired.
    /// </summary>
    Task<int> RetireVersionsAsync(string name, IReadOnlyCollection<string> keep, DateTimeOffset writtenBefore, CancellationToken cancellationToken);

    /// <summary>Deletes every version of <paramref name="name"/>. Deleting an absent name succeeds.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Every secret whose name starts with <paramref name="prefix"/>, with its tags and when its
    /// newest version was written. A scan: for the orphan sweep only, never a request path.
    /// </summary>
    IAsyncEnumerable<StoredSecret> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Proves the store answers and accepts our identity, without reading any secret.</summary>
    Task ProbeAsync(CancellationToken cancellationToken);
}

/// <summary>A secret as the sweep sees it: never its value.</summary>
public sealed record StoredSecret(string Name, IReadOnlyDictionary<string, string> Tags, DateTimeOffset UpdatedAt);
