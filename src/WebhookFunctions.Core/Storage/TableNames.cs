namespace WebhookFunctions.Core.Storage;

public static class TableNames
{
    public const string Merchants = "Merchants";
    public const string Applications = "Applications";
    public const string ApplicationOwners = "ApplicationOwners";
    public const string ApiKeys = "ApiKeys";
    public const string ApiKeyHashes = "ApiKeyHashes";
    public const string Webhooks = "Webhooks";
    public const string LocalSecrets = "LocalSecrets";
    public const string Idempotency = "Idempotency";
    public const string Events = "Events";
    public const string Deliveries = "Deliveries";
    public const string Jobs = "Jobs";

    public const string Verifications = "Verifications";

    public static IReadOnlyList<string> All { get; } =
        [Merchants, Applications, ApplicationOwners, ApiKeys, ApiKeyHashes, Webhooks, LocalSecrets, Idempotency, Events, Deliveries, Jobs, Verifications];
}
