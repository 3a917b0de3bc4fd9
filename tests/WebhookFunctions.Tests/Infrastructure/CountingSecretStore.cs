using WebhookFunctions.Core.Secrets;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>Passes every call to the real store and counts it, so tests can see when the store is used.</summary>
public sealed class CountingSecretStore(ISecretStore inner) : ISecretStore
{
    private int _sets;
    private int _gets;
    private int _deletes;
    private int _probes;

    public int Sets => Volatile.Read(ref _sets);

    public int Gets => Volatile.Read(ref _gets);

    public int Deletes => Volatile.Read(ref _deletes);

    public int Probes => Volatile.Read(ref _probes);

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

    public Task<int> RetireVersionsAsync(string name, IReadOnlyCollection<string> keep, DateTimeOffset writtenBefore, CancellationToken cancellationToken) =>
        inner.RetireVersionsAsync(name, keep, writtenBefore, cancellationToken);

    public IAsyncEnumerable<StoredSecret> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

    public Task ProbeAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _probes);
        return inner.ProbeAsync(cancellationToken);
    }
}
