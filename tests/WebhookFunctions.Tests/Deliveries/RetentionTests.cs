using System.Net;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Development;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>Events, deliveries and attempts are kept Delivery:RetentionDays, de-duplication with them, and then they are gone.</summary>
/// <remarks>
/// The purge is table-wide and the clock moves a month, so this runs on an Azurite of its own: it must
/// not purge what other tests are still using.
/// </remarks>
public sealed class RetentionTests : IAsyncLifetime
{
    private AzuriteProcess? _azurite;
    private string _connectionString = string.Empty;

    public async Task InitializeAsync()
    {
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));
        _azurite = await AzuriteProcess.StartAsync(AzuriteProcess.FindToolDirectory(AppContext.BaseDirectory)!, AzuriteProcess.FreePort(), null,
            $"devstoreaccount1:{key}", null, CancellationToken.None, AzuriteProcess.FreePort(), AzuriteProcess.FreePort());
        _connectionString = _azurite.ConnectionString(key);
    }

    public async Task DisposeAsync() => await _azurite!.DisposeAsync();

    [Fact]
    public async Task An_externalId_is_deduplicated_while_its_event_is_kept_and_everything_is_purged_after_retention()
    {
        await using var host = await TestHost.StartAsync(_connectionString, null,
            "Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true", "Delivery:RunWorkers=true",
            "Delivery:RetentionDays=30", "Delivery:SweepIntervalSeconds=3600");
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).GetProperty("id").GetString()!;
        var body = new { eventType = "session.completed", payload = new { id = 1 }, externalId = "order-1.paid" };
        using var first = await tenant.Http.PostAsync($"/api/v1/applications/{tenant.ApplicationId}/events", Http.Json(body));
        var eventId = (await first.BodyAsync()).GetProperty("id").GetString()!;
        await Eventually.Async(() => receiver.Deliveries.Any(d => d.Id == eventId), TimeSpan.FromSeconds(20), "the first delivery");
        var sweeper = host.Services.GetRequiredService<DeliverySweeper>();

        host.Clock.Advance(TimeSpan.FromDays(29));
        await sweeper.SweepAsync(CancellationToken.None);
        using var kept = await tenant.Http.PostAsync($"/api/v1/applications/{tenant.ApplicationId}/events", Http.Json(body));

        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        Assert.Equal(eventId, (await kept.BodyAsync()).GetProperty("id").GetString());
        Assert.Equal(1, await RowsAsync(TableNames.Deliveries, webhookId, prefix: "d:"));

        host.Clock.Advance(TimeSpan.FromDays(2));
        var swept = await sweeper.SweepAsync(CancellationToken.None);

        Assert.True(swept.RowsPurged >= 4, $"purged {swept.RowsPurged} rows: event, externalId index, delivery and attempt at least");
        Assert.Equal(0, await RowsAsync(TableNames.Events, tenant.ApplicationId));
        Assert.Equal(0, await RowsAsync(TableNames.Deliveries, webhookId, prefix: "d:"));
        Assert.Equal(0, await RowsAsync(TableNames.Deliveries, webhookId, prefix: "a:"));
        using var gone = await tenant.Http.GetAsync($"/api/v1/applications/{tenant.ApplicationId}/events/{eventId}");
        await gone.AssertErrorAsync(404);
        using var again = await tenant.Http.PostAsync($"/api/v1/applications/{tenant.ApplicationId}/events", Http.Json(body));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.NotEqual(eventId, (await again.BodyAsync()).GetProperty("id").GetString());
    }

    private async Task<int> RowsAsync(string table, string partition, string? prefix = null)
    {
        var client = new TableServiceClient(_connectionString).GetTableClient(table);
        var filter = prefix is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey gt {prefix} and RowKey lt {prefix[..^1] + ";"}");
        var count = 0;
        await foreach (var _ in client.QueryAsync<TableEntity>(filter, select: ["RowKey"]))
        {
            count++;
        }

        return count;
    }
}
