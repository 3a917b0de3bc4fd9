namespace WebhookFunctions.Api.Idempotency;

/// <summary>
/// What an <c>Idempotency-Key</c> is scoped to within a merchant: the operation and the ids its route
/// names. Never the raw path: <c>/v1/applications</c>, <c>/V1/Applications</c> and
/// <c>/v1/applications/</c> reach the same operation, so they must find the same record.
/// </summary>
public sealed record IdempotencyScope(string Key)
{
    /// <param name="operation">The operation's name from the operation table.</param>
    /// <param name="routeIds">The route's ids, already checked against their format (lowercase UUIDs).</param>
    public static IdempotencyScope Of(string operation, params string[] routeIds) => new(string.Join('/', [operation, .. routeIds]));
}
