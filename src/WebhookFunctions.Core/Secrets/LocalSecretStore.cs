using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Secrets;

/// <summary>
/// Development's secret store: each version is a row in an Azurite table, sealed with AES-256-GCM
/// under a local key, with the name and version as associated data so a row cannot be moved.
/// </summary>
public sealed class LocalSecretStore(Tables tables, LocalSecretKey key) : ISecretStore
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private readonly TableClient _table = tables.LocalSecrets;

    public async Task<string> SetAsync(string name, string value, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        var version = Guid.CreateVersion7().ToString("N");
        var entity = new TableEntity(name, version)
        {
            ["Sealed"] = Seal(name, version, value),
            ["Tags"] = JsonSerializer.Serialize(tags),
        };
        await _table.AddEntityAsync(entity, cancellationToken);
        return version;
    }

    public async Task<string?> GetAsync(string name, string? version, CancellationToken cancellationToken)
    {
        TableEntity? entity;
        if (version is not null)
        {
            var response = await _table.GetEntityIfExistsAsync<TableEntity>(name, version, ["RowKey", "Sealed"], cancellationToken);
            entity = response.HasValue ? response.Value : null;
        }
        else
        {
            entity = null;
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {name}");
            await foreach (var row in _table.QueryAsync<TableEntity>(filter, select: ["RowKey", "Sealed"], cancellationToken: cancellationToken))
            {
                // Versions are UUIDv7 in hex, so the greatest row key is the newest.
                if (entity is null || string.CompareOrdinal(row.RowKey, entity.RowKey) > 0)
                {
                    entity = row;
                }
            }
        }

        return entity is null ? null : Open(name, entity.RowKey, entity.GetBinary("Sealed"));
    }

    public async Task<int> RetireVersionsAsync(
        string name, IReadOnlyCollection<string> keep, DateTimeOffset writtenBefore, CancellationToken cancellationToken)
    {
        var retired = 0;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {name}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, select: ["RowKey", "Timestamp"], cancellationToken: cancellationToken))
        {
            if (keep.Contains(row.RowKey, StringComparer.Ordinal) || row.Timestamp is not { } written || written >= writtenBefore)
            {
                continue;
            }

            await _table.DeleteEntityAsync(name, row.RowKey, ETag.All, cancellationToken);
            retired++;
        }

        return retired;
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {name}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            await _table.DeleteEntityAsync(name, row.RowKey, ETag.All, cancellationToken);
        }
    }

    public async IAsyncEnumerable<StoredSecret> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Rows come sorted by name, then version: one secret's versions are adjacent.
        StoredSecret? current = null;
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {prefix} and PartitionKey lt {prefix + char.MaxValue}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "Tags", "Timestamp"], cancellationToken: cancellationToken))
        {
            var written = row.Timestamp ?? DateTimeOffset.MinValue;
            if (current is not null && current.Name == row.PartitionKey)
            {
                current = current with { UpdatedAt = written > current.UpdatedAt ? written : current.UpdatedAt };
                continue;
            }

            if (current is not null)
            {
                yield return current;
            }

            var tags = JsonSerializer.Deserialize<Dictionary<string, string>>(row.GetString("Tags") ?? "{}") ?? [];
            current = new StoredSecret(row.PartitionKey, tags, written);
        }

        if (current is not null)
        {
            yield return current;
        }
    }

    public async Task ProbeAsync(CancellationToken cancellationToken) =>
        await _table.GetEntityIfExistsAsync<TableEntity>("health-probe", "health-probe", ["RowKey"], cancellationToken);

    private byte[] Seal(string name, string version, string value)
    {
        var plaintext = Encoding.UTF8.GetBytes(value);
        var output = new byte[NonceBytes + plaintext.Length + TagBytes];
        var nonce = output.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key.Bytes, TagBytes);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceBytes, plaintext.Length), output.AsSpan(NonceBytes + plaintext.Length), AssociatedData(name, version));
        return output;
    }

    private string Open(string name, string version, byte[] sealedValue)
    {
        var cipherLength = sealedValue.Length - NonceBytes - TagBytes;
        var plaintext = new byte[cipherLength];
        using var aes = new AesGcm(key.Bytes, TagBytes);
        aes.Decrypt(sealedValue.AsSpan(0, NonceBytes), sealedValue.AsSpan(NonceBytes, cipherLength),
            sealedValue.AsSpan(NonceBytes + cipherLength), plaintext, AssociatedData(name, version));
        return Encoding.UTF8.GetString(plaintext);
    }

    private static byte[] AssociatedData(string name, string version) => Encoding.UTF8.GetBytes(name + "/" + version);
}
