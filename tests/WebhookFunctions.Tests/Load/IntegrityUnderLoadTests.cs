using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Webhooks;
using WebhookFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookFunctions.Tests.Load;

/// <summary>
/// 16 clients over 3 merchants doing mixed operations for a minute (INTEGRITY_SECONDS overrides),
/// then the stored state checked against what every client last saw acknowledged.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class IntegrityUnderLoadTests(ApiFixture fixture, ITestOutputHelper output)
{
    private const int Clients = 16;
    private const int Merchants = 3;
    private static readonly string[][] EventChoices = [["*"], ["session.completed"], ["session.expired"], ["session.completed", "session.expired"]];

    private sealed record Expected(string Url, string? Description, bool IsActive, string[] Events);

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Sixteen_clients_for_a_minute_leave_every_record_and_the_url_index_exactly_as_acknowledged()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("INTEGRITY_SECONDS"), CultureInfo.InvariantCulture, out var configured) ? configured : 60;
        await using var host = await fixture.StartHostAsync("Webhooks:MaxPerApplication=1000");
        var tenants = new List<Tenant>();
        for (var i = 0; i < Merchants; i++)
        {
            tenants.Add(await host.NewTenantAsync($"Load merchant {i}"));
        }

        var statuses = new ConcurrentDictionary<string, int>();
        var live = new ConcurrentDictionary<string, (Tenant Tenant, Expected Expected)>();
        var deleted = new ConcurrentDictionary<string, Tenant>();
        var stopwatch = Stopwatch.StartNew();
        var until = TimeSpan.FromSeconds(seconds);

        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            var tenant = tenants[client % Merchants];
            var random = new Random(client);
            var mine = new Dictionary<string, Expected>();
            while (stopwatch.Elapsed < until)
            {
                var roll = random.Next(100);
                var id = mine.Count > 0 ? mine.Keys.ElementAt(random.Next(mine.Count)) : null;
                string operation;
                HttpResponseMessage response;
                if (id is null || (roll < 25 && mine.Count < 40))
                {
                    operation = "create";
                    var expected = new Expected(Http.UniqueUrl(), random.Next(2) == 0 ? null : $"client {client}", random.Next(4) != 0, EventChoices[random.Next(EventChoices.Length)]);
                    response = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = expected.Url, description = expected.Description, isActive = expected.IsActive, subscribedEvents = expected.Events }));
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        var newId = (await response.BodyAsync()).GetProperty("id").GetString()!;
                        mine[newId] = expected;
                    }
                }
                else if (roll < 45)
                {
                    operation = "get";
                    response = await tenant.Http.GetAsync(tenant.WebhookPath(id));
                }
                else if (roll < 60)
                {
                    operation = "list";
                    response = await tenant.Http.GetAsync(tenant.WebhooksPath + "?limit=" + random.Next(1, 101));
                }
                else if (roll < 85)
                {
                    operation = "patch";
                    var before = mine[id];
                    var after = before with
                    {
                        Url = random.Next(3) == 0 ? Http.UniqueUrl() : before.Url,
                        Description = random.Next(3) == 0 ? null : $"patched by {client} at {stopwatch.ElapsedMilliseconds}",
                        IsActive = random.Next(2) == 0,
                        Events = EventChoices[random.Next(EventChoices.Length)],
                    };
                    response = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(id), new { url = after.Url, description = after.Description, isActive = after.IsActive, subscribedEvents = after.Events });
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        mine[id] = after;
                    }
                }
                else if (roll < 95)
                {
                    operation = "delete";
                    response = await tenant.Http.DeleteAsync(tenant.WebhookPath(id));
                    if (response.StatusCode == HttpStatusCode.NoContent)
                    {
                        mine.Remove(id);
                        deleted[id] = tenant;
                    }
                }
                else
                {
                    operation = "rotate";
                    response = await tenant.Http.PostAsync(tenant.WebhookPath(id) + "/rotate-secret", Http.Json(new { gracePeriodSeconds = 0 }));
                }

                statuses.AddOrUpdate($"{operation} {(int)response.StatusCode}", 1, (_, n) => n + 1);
                response.Dispose();
            }

            foreach (var (id, expected) in mine)
            {
                live[id] = (tenant, expected);
            }
        })));

        var total = statuses.Values.Sum();
        output.WriteLine($"{total} requests in {stopwatch.Elapsed.TotalSeconds:F1} s ({total / stopwatch.Elapsed.TotalSeconds:F0}/s) by {Clients} clients over {Merchants} merchants");
        output.WriteLine(string.Join(", ", statuses.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}: {s.Value}")));
        output.WriteLine($"{live.Count} live and {deleted.Count} deleted webhooks to check");

        Assert.DoesNotContain(statuses.Keys, k => k.EndsWith(" 5", StringComparison.Ordinal) || k.Split(' ')[1].StartsWith('5'));
        Assert.All(statuses.Keys, k => Assert.True(k.Split(' ')[1] is "200" or "201" or "204", $"unexpected outcome {k}"));

        foreach (var (id, (tenant, expected)) in live)
        {
            using var get = await tenant.Http.GetAsync(tenant.WebhookPath(id));
            var body = await get.BodyAsync();
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(expected.Url, body.GetProperty("url").GetString());
            Assert.Equal(expected.Description, body.GetProperty("description").GetString());
            Assert.Equal(expected.IsActive, body.GetProperty("isActive").GetBoolean());
            Assert.Equal(expected.Events, body.GetProperty("subscribedEvents").EnumerateArray().Select(e => e.GetString()!).ToArray());
        }

        foreach (var (id, tenant) in deleted)
        {
            using var get = await tenant.Http.GetAsync(tenant.WebhookPath(id));
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        }

        var table = host.Services.GetRequiredService<Tables>().Webhooks;
        foreach (var tenant in tenants)
        {
            var records = new Dictionary<string, string>();
            var index = new Dictionary<string, string>();
            var count = -1;
            await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {tenant.MerchantId}")))
            {
                if (row.RowKey.StartsWith("url:", StringComparison.Ordinal))
                {
                    index[row.RowKey] = row.GetString("WebhookId");
                }
                else if (row.RowKey.StartsWith("count:", StringComparison.Ordinal))
                {
                    count = row.GetInt32("Count") ?? -1;
                }
                else
                {
                    records[row.GetString("WebhookId")] = WebhookUrlIndexEntity.RowKeyOf(row.GetString("ApplicationId"), WebhookUrlRules.Normalize(new Uri(row.GetString("Url"))));
                }
            }

            var expectedIds = live.Where(l => l.Value.Tenant == tenant).Select(l => l.Key).Order(StringComparer.Ordinal);
            Assert.Equal(expectedIds, records.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(records.Values.Order(StringComparer.Ordinal), index.Keys.Order(StringComparer.Ordinal));
            Assert.All(records, r => Assert.Equal(r.Key, index[r.Value]));
            Assert.Equal(records.Count, count);
        }
    }
}
