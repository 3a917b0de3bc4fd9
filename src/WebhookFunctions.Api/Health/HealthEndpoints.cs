using Microsoft.AspNetCore.Http;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Api.Health;

public sealed record HealthReport(string Status, string Storage, string SecretStore);

/// <summary>
/// Reports whether storage and the secret store answer, each within a short probe deadline. The
/// answer is reused for <see cref="CacheFor"/>, and concurrent requests share one probe, so however
/// often health is asked, storage and Key Vault see at most one probe each per few seconds.
/// </summary>
public sealed class HealthEndpoints(Tables tables, ISecretStore secrets, TimeProvider clock)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private Task<HealthReport>? _report;
    private DateTimeOffset _reportUntil;

    public async Task<IResult> GetAsync(HttpContext httpContext)
    {
        var report = await CurrentAsync();
        return report is { Storage: "reachable", SecretStore: "reachable" }
            ? ApiResults.Ok(report)
            : ApiResults.Json(StatusCodes.Status503ServiceUnavailable, report);
    }

    private Task<HealthReport> CurrentAsync()
    {
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            if (_report is null || now >= _reportUntil)
            {
                _report = ProbeAsync();
                _reportUntil = now + CacheFor;
            }

            return _report;
        }
    }

    /// <summary>Not tied to any one request: the result serves every request of the next few seconds.</summary>
    private async Task<HealthReport> ProbeAsync()
    {
        var storage = ProbeAsync(ct => tables.Merchants.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("health-probe", "health-probe", ["RowKey"], ct));
        var secretStore = ProbeAsync(secrets.ProbeAsync);
        var report = new HealthReport("healthy", await storage, await secretStore);
        return report is { Storage: "reachable", SecretStore: "reachable" } ? report : report with { Status = "unhealthy" };
    }

    private static async Task<string> ProbeAsync(Func<CancellationToken, Task> probe)
    {
        using var timeout = new CancellationTokenSource(ProbeTimeout);
        try
        {
            await probe(timeout.Token);
            return "reachable";
        }
        catch (Exception)
        {
            return "unreachable";
        }
    }
}
