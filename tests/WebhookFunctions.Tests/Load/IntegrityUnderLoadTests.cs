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
/// then the stored state checked against what every client last saw acknowledged. A share of the
/// writes go to webhooks that every client of a merchant patches, some with If-Match.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class IntegrityUnderLoadTests(ApiFixture fixture, ITestOutputHelper output)
{
    private const int Clients = 16;
    private const int Merchants = 3;
    private const int SharedPerMerchant = 2;
    private const int SharedPercent = 20;
    private static readonly string[][] EventChoices = [["*"], ["session.completed"], ["session.expired"], ["session.completed", "session.expired"]];

    private sealed record Expected(string Url, string? Description, bool IsActive, string[] Events);

    /// <summary>
    /// A webhook every client of its merchant writes. Each write sends every field, with a description
    /// no other write uses, so the record always shows exactly one write.
    /// </summary>
    private sealed record Shared(Tenant Tenant, string Id, string[] Urls, string CreatedETag, Expected Created)
    {
        public ConcurrentQueue<SharedWrite> Writes { get; } = new();
    }

    /// <summary>
    /// One PATCH of a shared webhook, timed on the test's stopwatch (ticks). With If-Match, Seen is
    /// when the client was shown that ETag: from sending the request that returned it to its answer.
    /// </summary>
    private sealed record SharedWrite(string? IfMatch, long SeenFrom, long SeenTo, long Sent, long Received, HttpStatusCode Status, string? ETag, Expected Content);

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

        var shared = new List<Shared>();
        foreach (var tenant in tenants)
        {
            for (var i = 0; i < SharedPerMerchant; i++)
            {
                var urls = Enumerable.Range(0, 3).Select(_ => Http.UniqueUrl()).ToArray();
                var created = new Expected(urls[0], "shared", true, ["*"]);
                using var response = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = created.Url, description = created.Description }));
                var body = await response.BodyAsync();
                Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToString());
                shared.Add(new Shared(tenant, body.GetProperty("id").GetString()!, urls, response.Headers.ETag!.ToString(), created));
            }
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
            var seen = new Dictionary<string, (string ETag, long From, long To)>();
            var writes = 0;
            var sharedOfTenant = shared.Where(w => w.Tenant == tenant).ToList();
            while (stopwatch.Elapsed < until)
            {
                if (random.Next(100) < SharedPercent)
                {
                    var target = sharedOfTenant[random.Next(sharedOfTenant.Count)];
                    var ifMatch = random.Next(2) == 0;
                    if (ifMatch && (!seen.ContainsKey(target.Id) || random.Next(2) == 0))
                    {
                        var from = stopwatch.ElapsedTicks;
                        using var read = await tenant.Http.GetAsync(tenant.WebhookPath(target.Id));
                        if (read.StatusCode == HttpStatusCode.OK)
                        {
                            seen[target.Id] = (read.Headers.ETag!.ToString(), from, stopwatch.ElapsedTicks);
                        }

                        statuses.AddOrUpdate($"shared-get {(int)read.StatusCode}", 1, (_, n) => n + 1);
                    }

                    ifMatch &= seen.ContainsKey(target.Id);

                    var content = new Expected(
                        target.Urls[random.Next(target.Urls.Length)], $"client {client} write {writes++}", random.Next(2) == 0, EventChoices[random.Next(EventChoices.Length)]);
                    var precondition = ifMatch ? seen[target.Id] : default;
                    var sent = stopwatch.ElapsedTicks;
                    using var write = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(target.Id),
                        new { url = content.Url, description = content.Description, isActive = content.IsActive, subscribedEvents = content.Events }, precondition.ETag);
                    var received = stopwatch.ElapsedTicks;
                    var etag = write.Headers.ETag?.ToString();
                    target.Writes.Enqueue(new SharedWrite(precondition.ETag, precondition.From, precondition.To, sent, received, write.StatusCode, etag, content));
                    if (write.StatusCode == HttpStatusCode.OK)
                    {
                        seen[target.Id] = (etag!, sent, received);
                    }

                    statuses.AddOrUpdate($"shared-patch{(ifMatch ? "-if-match" : string.Empty)} {(int)write.StatusCode}", 1, (_, n) => n + 1);
                    continue;
                }

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
        var sharedWrites = shared.SelectMany(r => r.Writes).ToList();
        output.WriteLine($"{sharedWrites.Count} writes to {shared.Count} shared webhooks, {sharedWrites.Count(w => w.IfMatch is not null)} with If-Match, "
            + $"{sharedWrites.Count(w => w.Status == HttpStatusCode.PreconditionFailed)} of them 412");
        output.WriteLine($"{live.Count} live and {deleted.Count} deleted webhooks to check");

        Assert.DoesNotContain(statuses.Keys, k => k.EndsWith(" 5", StringComparison.Ordinal) || k.Split(' ')[1].StartsWith('5'));
        Assert.All(statuses.Keys, k => Assert.True(k.Split(' ')[1] is "200" or "201" or "204" || k == "shared-patch-if-match 412", $"unexpected outcome {k}"));
        foreach (var record in shared)
        {
            live[record.Id] = (record.Tenant, await CheckSharedAsync(record));
        }

        Assert.True(statuses.GetValueOrDefault("shared-patch 200") > 0, "no write without If-Match to a shared webhook succeeded");
        Assert.True(statuses.GetValueOrDefault("shared-patch-if-match 200") > 0, "no write with If-Match to a shared webhook succeeded");

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

    /// <summary>
    /// The record shows the last acknowledged write, every 412 had a write that could have made its
    /// ETag stale, and no If-Match write succeeded over a change its client had not seen. Writes are
    /// ordered only where their times do not overlap; an ETag belongs to one state, never repeated.
    /// </summary>
    private static async Task<Expected> CheckSharedAsync(Shared record)
    {
        using var read = await record.Tenant.Http.GetAsync(record.Tenant.WebhookPath(record.Id));
        var body = await read.BodyAsync();
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var final = read.Headers.ETag!.ToString();
        var acknowledged = record.Writes.Where(w => w.Status == HttpStatusCode.OK).ToList();

        Expected shown;
        if (final == record.CreatedETag)
        {
            Assert.Empty(acknowledged);
            shown = record.Created;
        }
        else
        {
            var last = acknowledged.SingleOrDefault(w => w.ETag == final);
            if (last is null)
            {
                Assert.Fail($"webhook {record.Id} has ETag {final}, which no acknowledged write returned");
            }

            var later = acknowledged.FirstOrDefault(w => w.Sent > last.Received);
            Assert.True(later is null, $"webhook {record.Id} shows '{last.Content.Description}' although '{later?.Content.Description}' was sent after it was acknowledged, and acknowledged too");
            shown = last.Content;
        }

        Assert.Equal(shown.Url, body.GetProperty("url").GetString());
        Assert.Equal(shown.Description, body.GetProperty("description").GetString());
        Assert.Equal(shown.IsActive, body.GetProperty("isActive").GetBoolean());
        Assert.Equal(shown.Events, body.GetProperty("subscribedEvents").EnumerateArray().Select(e => e.GetString()!).ToArray());

        foreach (var refused in record.Writes.Where(w => w.Status == HttpStatusCode.PreconditionFailed))
        {
            Assert.True(refused.IfMatch != final, $"412 for '{refused.Content.Description}' with the ETag webhook {record.Id} still has");
            Assert.True(
                acknowledged.Any(w => w.ETag != refused.IfMatch && w.Received > refused.SeenFrom && w.Sent < refused.Received),
                $"412 for '{refused.Content.Description}' although no write could have changed webhook {record.Id} since its client was shown that ETag");
        }

        foreach (var passed in acknowledged.Where(w => w.IfMatch is not null))
        {
            var missed = acknowledged.FirstOrDefault(w => w != passed && w.ETag != passed.IfMatch && w.Sent > passed.SeenTo && w.Received < passed.Sent);
            Assert.True(missed is null, $"'{passed.Content.Description}' passed If-Match although '{missed?.Content.Description}' had changed webhook {record.Id} in between");
        }

        return shown;
    }
}
