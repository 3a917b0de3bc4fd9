using System.Net;
using System.Reflection;
using Azure.Data.Tables;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Webhooks;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Layering;

[Collection(ApiTestGroup.Name)]
public sealed class LayeringTests(ApiFixture fixture)
{
    [Fact]
    public void The_domain_assembly_references_nothing_of_ASP_NET_Core()
    {
        var domain = typeof(WebhookService).Assembly;
        var references = domain.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.Equal("WebhookFunctions.Core", domain.GetName().Name);
        Assert.DoesNotContain(references, name => name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(references, name => name.StartsWith("WebhookFunctions.Api", StringComparison.Ordinal));
    }

    [Fact]
    public void Domain_failures_are_not_http_status_codes()
    {
        var failures = typeof(WebhookService).Assembly.GetTypes()
            .Where(t => typeof(Exception).IsAssignableFrom(t))
            .ToList();

        Assert.Contains(failures, t => t.Name == "NotFoundException");
        Assert.All(failures, t => Assert.DoesNotContain(
            t.GetProperties(BindingFlags.Public | BindingFlags.Instance),
            p => p.Name.Contains("Status", StringComparison.Ordinal)));
    }

    /// <summary>
    /// A column the current mapping does not know, as a later version (delivery counts, disabledAt)
    /// would add, must survive every write the API makes to the row.
    /// </summary>
    [Fact]
    public async Task A_column_the_mapping_does_not_know_survives_patch_rotation_and_test()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl(), description = "before" });
        var id = created.GetProperty("id").GetString()!;
        var table = new TableServiceClient(fixture.ConnectionString).GetTableClient(TableNames.Webhooks);
        var rowKey = WebhookEntity.RowKeyOf(tenant.ApplicationId, id);
        await table.UpdateEntityAsync(
            new TableEntity(tenant.MerchantId, rowKey) { ["SuccessCount"] = 42L, ["FutureColumn"] = "future" },
            Azure.ETag.All, TableUpdateMode.Merge);

        using var patch = await tenant.Http.PatchJsonAsync($"{tenant.WebhooksPath}/{id}", new { description = (string?)null, isActive = false });
        using var rotate = await tenant.Http.PostAsync($"{tenant.WebhooksPath}/{id}/rotate-secret", null);
        using var patchUrl = await tenant.Http.PatchJsonAsync($"{tenant.WebhooksPath}/{id}", new { url = Http.UniqueUrl() });

        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, patchUrl.StatusCode);
        var row = (await table.GetEntityAsync<TableEntity>(tenant.MerchantId, rowKey)).Value;
        Assert.Equal(42L, row.GetInt64("SuccessCount"));
        Assert.Equal("future", row.GetString("FutureColumn"));
        // The known columns did change, and a null cleared one rather than leaving the old value.
        Assert.False(row.ContainsKey(WebhookEntity.Description));
        Assert.False(row.GetBoolean(WebhookEntity.IsActive));
        Assert.Equal((await patchUrl.BodyAsync()).GetProperty("url").GetString(), row.GetString(WebhookEntity.Url));
    }
}
