using System.Net;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Maintenance;

/// <summary>Idempotency records live for their 24 hours and are then purged by the sweep schedule, not kept forever.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class IdempotencyPurgeTests(ApiFixture fixture)
{
    private static async Task<HttpStatusCode> CreateApplicationAsync(Tenant tenant, string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/applications") { Content = Http.Json(new { name }) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await tenant.Http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<List<DateTimeOffset>> RecordsOfAsync(TestHost host, string merchantId)
    {
        var table = host.Services.GetRequiredService<Tables>().Idempotency;
        var created = new List<DateTimeOffset>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {merchantId}")))
        {
            created.Add(row.GetDateTimeOffset("CreatedAt")!.Value);
        }

        return created;
    }

    [Fact]
    public async Task The_standalone_sweep_schedule_purges_records_past_their_day_and_keeps_younger_ones()
    {
        await using var host = await fixture.StartHostAsync("Sweep:IntervalSeconds=1");
        var tenant = await host.NewTenantAsync();
        Assert.Equal(HttpStatusCode.Created, await CreateApplicationAsync(tenant, "Yesterday"));
        host.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1));
        var youngSince = host.Clock.GetUtcNow() - TimeSpan.FromSeconds(1);
        Assert.Equal(HttpStatusCode.Created, await CreateApplicationAsync(tenant, "Today"));

        var records = await RecordsOfAsync(host, tenant.MerchantId);
        for (var attempt = 0; attempt < 150 && records.Count > 1; attempt++)
        {
            await Task.Delay(100);
            records = await RecordsOfAsync(host, tenant.MerchantId);
        }

        Assert.True(records.Count == 1, $"{records.Count} records left after 15 s of sweeps; expected only today's");
        Assert.True(records[0] >= youngSince, "the record that is left is not the young one");
    }

    [Fact]
    public void The_functions_app_purges_on_the_sweep_timer()
    {
        var source = File.ReadAllText(Path.Combine(Hosting.OperationParityTests.RepositoryRoot(), "src", "WebhookFunctions", "Functions", "SweepOrphanSecrets.cs"));

        Assert.Contains("sweeper.SweepAsync(cancellationToken)", source, StringComparison.Ordinal);
        Assert.Contains("purger.PurgeAsync(cancellationToken)", source, StringComparison.Ordinal);
    }
}
