using WebhookFunctions.Core.Secrets;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>Passes every call to the real store and counts it, so tests can see when the store is used.</summary>
public sealed class CountingSecretStore(ISecretStore inner) : ISecretStore
{
    private int _sets;
    private int _gets;
    private int _deletes;

    public int Sets => Volatile.Read(ref _sets);

    public int Gets => Volatile.Read(ref _gets);

    public int Deletes => Volatile.Read(ref _deletes);

    public int Total => Sets + Gets + Deletes;

    public ISecretStore Inner => inner;

    public Task<string> SetAsync(string name, string value, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sets);
        return inner.SetAsync(name, value, tags, cancellationToken);
    }

    public Task<string?> GetAsync(string name, string? version, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _gets);
        return inner.GetAsync(name, version, cancellationToken);
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _deletes);
        return inner.DeleteAsync(name, cancellationToken);
    }

    public IAsyncEnumerable<StoredSecret> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

    public Task ProbeAsync(CancellationToken cancellationToken) => inner.ProbeAsync(cancellationToken);
}
