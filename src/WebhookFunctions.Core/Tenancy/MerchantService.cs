using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Tenancy;

/// <summary>Merchants are created by operators (admin CLI) only.</summary>
public sealed class MerchantService(Tables tables, TimeProvider clock)
{
    public const int MaxNameLength = 100;

    public async Task<Merchant> CreateAsync(string name, CancellationToken cancellationToken)
    {
        RequireName(name);
        var entity = new MerchantEntity { PartitionKey = Ids.New(), Name = name, CreatedAt = Now() };
        await tables.Merchants.AddEntityAsync(entity, cancellationToken);
        return new Merchant(entity.PartitionKey, entity.Name, entity.CreatedAt);
    }

    public async Task<Merchant?> FindAsync(string merchantId, CancellationToken cancellationToken)
    {
        if (!Ids.IsValid(merchantId))
        {
            return null;
        }

        var found = await tables.Merchants.GetEntityIfExistsAsync<MerchantEntity>(merchantId, MerchantEntity.Row, cancellationToken: cancellationToken);
        return found.HasValue ? new Merchant(found.Value!.PartitionKey, found.Value.Name, found.Value.CreatedAt) : null;
    }

    public async Task<Merchant> RequireAsync(string merchantId, CancellationToken cancellationToken) =>
        await FindAsync(merchantId, cancellationToken)
        ?? throw new NotFoundException($"Merchant '{merchantId}' does not exist.");

    internal static void RequireName(string? name, string field = "name")
    {
        if (!IsValidName(name))
        {
            throw new ValidationException(new ErrorDetail(field, $"Must be 1 to {MaxNameLength} characters with no control characters"));
        }
    }

    internal static bool IsValidName([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? name) =>
        !string.IsNullOrWhiteSpace(name) && name.Length <= MaxNameLength && !name.Any(char.IsControl);

    private DateTimeOffset Now() => Timestamps.Truncate(clock.GetUtcNow());
}
