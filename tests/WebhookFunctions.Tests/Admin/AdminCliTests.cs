using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Admin;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Paging;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Admin;

[Collection(ApiTestGroup.Name)]
public sealed class AdminCliTests(ApiFixture fixture)
{
    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await AdminCli.RunAsync(args, stdout, stderr, config => config.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = fixture.ConnectionString,
            // The CLI never touches secrets, but it builds the same services as the hosts.
            ["KeyVault:VaultUri"] = "https://unused.vault.azure.net",
        }));
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task An_operator_can_onboard_a_merchant_whose_key_then_works_over_http()
    {
        var merchant = await RunAsync("merchant", "create", "--name", "Acme", "--json");
        var merchantJson = JsonDocument.Parse(merchant.Out).RootElement;
        var merchantId = merchantJson.GetProperty("id").GetString()!;
        var app = await RunAsync("app", "create", "--merchant", merchantId, "--name", "Checkout", "--json");
        var appJson = JsonDocument.Parse(app.Out).RootElement;
        var key = await RunAsync("key", "create", "--merchant", merchantId, "--name", "prod", "--json");
        var keyJson = JsonDocument.Parse(key.Out).RootElement;

        Assert.Equal(0, merchant.Exit);
        Assert.Equal(["id", "name", "createdAt"], merchantJson.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0, app.Exit);
        Assert.Equal(["id", "merchantId", "name", "createdAt"], appJson.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0, key.Exit);
        Assert.Equal(["id", "key", "keyPrefix", "name", "createdAt", "expiresAt"], keyJson.EnumerateObject().Select(p => p.Name));

        using var client = fixture.Host.Client(keyJson.GetProperty("key").GetString());
        using var response = await client.GetAsync($"/api/v1/applications/{appJson.GetProperty("id").GetString()}/webhooks");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Key_list_shows_metadata_only_and_revoke_stops_the_key()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        var list = await RunAsync("key", "list", "--merchant", tenant.MerchantId, "--json");
        var revoke = await RunAsync("key", "revoke", "--merchant", tenant.MerchantId, "--id", tenant.KeyId, "--json");
        using var response = await fixture.Host.Client(tenant.ApiKey).GetAsync(tenant.WebhooksPath);

        Assert.Equal(0, list.Exit);
        Assert.DoesNotContain(tenant.ApiKey, list.Out, StringComparison.Ordinal);
        var item = JsonDocument.Parse(list.Out).RootElement.GetProperty("items").EnumerateArray().Single();
        Assert.Equal(tenant.ApiKey[..12], item.GetProperty("keyPrefix").GetString());
        Assert.Equal(0, revoke.Exit);
        Assert.Equal(tenant.KeyId, JsonDocument.Parse(revoke.Out).RootElement.GetProperty("id").GetString());
        await response.AssertErrorAsync(401);
    }

    [Fact]
    public async Task Key_list_shows_every_key_beyond_one_page()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var keys = fixture.Host.Services.GetRequiredService<ApiKeyService>();
        // Revoked as they are made, so the active-key quota never gets in the way; two at a time, as every
        // create and revoke of one merchant goes through the same counter row.
        await Parallel.ForEachAsync(Enumerable.Range(0, PageTokens.MaxLimit + 5), new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (i, ct) =>
        {
            var key = await keys.CreateAsync(tenant.MerchantId, $"k{i}", null, ct);
            await keys.RevokeAsync(tenant.MerchantId, key.Id, allowLastActive: true, ct);
        });

        var list = await RunAsync("key", "list", "--merchant", tenant.MerchantId, "--json");

        Assert.Equal(0, list.Exit);
        var ids = JsonDocument.Parse(list.Out).RootElement.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("id").GetString()).ToList();
        Assert.Equal(PageTokens.MaxLimit + 6, ids.Distinct().Count());
        Assert.Contains(tenant.KeyId, ids);
    }

    [Theory]
    [InlineData("")]
    [InlineData("merchant")]
    [InlineData("merchant create")]
    [InlineData("merchant create --name")]
    [InlineData("merchant delete --name x")]
    [InlineData("merchant create --name x --colour red")]
    [InlineData("key create --merchant 0193f1c2-0000-7000-8000-000000000000 --name k --expires-at soon")]
    [InlineData("queue redrive")]
    [InlineData("queue redrive --queue webhook-attempts-poison")]
    [InlineData("queue redrive --queue webhook-attempts --max 0")]
    [InlineData("queue redrive --queue webhook-attempts --max lots")]
    [InlineData("queue redrive --queue webhook-attempts --colour red")]
    public async Task Bad_arguments_print_usage_and_exit_2(string commandLine)
    {
        var (exit, stdout, stderr) = await RunAsync(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("Usage:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_merchant_exits_1_with_a_clear_message()
    {
        var (exit, stdout, stderr) = await RunAsync("app", "create", "--merchant", "0193f1c2-0000-7000-8000-000000000000", "--name", "x", "--json");

        Assert.Equal(1, exit);
        Assert.Empty(stdout);
        Assert.Contains("0193f1c2-0000-7000-8000-000000000000", stderr, StringComparison.Ordinal);
        Assert.Contains("does not exist", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expires_at_in_the_past_is_refused()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        var (exit, _, stderr) = await RunAsync("key", "create", "--merchant", tenant.MerchantId, "--name", "old", "--expires-at", "2020-01-01T00:00:00Z");

        Assert.Equal(2, exit);
        Assert.Contains("--expires-at", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Queue_redrive_moves_poisoned_messages_back_unchanged_and_says_how_many()
    {
        var (queue, poison) = await NewQueuePairAsync();
        string[] bodies =
        [
            Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"merchantId":"m","applicationId":"a","webhookId":"w","eventId":"e","attempt":2}""")),
            Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"merchantId":"m","applicationId":"a","eventId":"e"}""")),
            "%%% not even base64 %%%",
        ];
        foreach (var body in bodies)
        {
            await poison.SendMessageAsync(body);
        }

        var (exit, stdout, stderr) = await RunAsync("queue", "redrive", "--queue", queue.Name, "--json");

        Assert.True(exit == 0, stderr);
        var result = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(["queue", "moved"], result.EnumerateObject().Select(p => p.Name));
        Assert.Equal(queue.Name, result.GetProperty("queue").GetString());
        Assert.Equal(3, result.GetProperty("moved").GetInt32());
        Assert.Equal(bodies.Order(StringComparer.Ordinal), (await PeekAsync(queue)).Order(StringComparer.Ordinal));
        // Counted, not peeked: a message taken but never deleted stays in the queue, hidden.
        Assert.Equal(0, (await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task Queue_redrive_with_max_moves_no_more_than_that()
    {
        var (queue, poison) = await NewQueuePairAsync();
        foreach (var n in new[] { "one", "two", "three" })
        {
            await poison.SendMessageAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(n)));
        }

        var (exit, stdout, _) = await RunAsync("queue", "redrive", "--queue", queue.Name, "--max", "2", "--json");

        Assert.Equal(0, exit);
        Assert.Equal(2, JsonDocument.Parse(stdout).RootElement.GetProperty("moved").GetInt32());
        Assert.Equal(2, (await PeekAsync(queue)).Count);
        Assert.Equal(1, (await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task Queue_redrive_of_an_unknown_queue_exits_1_and_of_one_never_poisoned_moves_nothing()
    {
        var missing = await RunAsync("queue", "redrive", "--queue", $"nosuch{Guid.NewGuid():N}", "--json");
        var (queue, poison) = await NewQueuePairAsync();
        await poison.DeleteAsync();
        var clean = await RunAsync("queue", "redrive", "--queue", queue.Name, "--json");

        Assert.Equal(1, missing.Exit);
        Assert.Empty(missing.Out);
        Assert.Contains("does not exist", missing.Err, StringComparison.Ordinal);
        Assert.Equal(0, clean.Exit);
        Assert.Equal(0, JsonDocument.Parse(clean.Out).RootElement.GetProperty("moved").GetInt32());
    }

    /// <summary>A queue and its poison queue of their own, read and written byte for byte.</summary>
    private async Task<(QueueClient Queue, QueueClient Poison)> NewQueuePairAsync()
    {
        var service = new QueueServiceClient(fixture.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        var queue = service.GetQueueClient($"redrive{Guid.NewGuid():N}");
        var poison = service.GetQueueClient(queue.Name + "-poison");
        await queue.CreateAsync();
        await poison.CreateAsync();
        return (queue, poison);
    }

    private static async Task<List<string>> PeekAsync(QueueClient queue) =>
        (await queue.PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString()).ToList();
}
