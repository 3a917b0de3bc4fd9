using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Webhooks;
using WebhookFunctions.Tests.Hosting;

namespace WebhookFunctions.Tests.Infra;

/// <summary>Compiles infra/main.bicep with the packaged bicep binary and checks what it would deploy.</summary>
public sealed partial class BicepTemplateTests : IClassFixture<BicepTemplateTests.Compiled>
{
    private readonly Compiled _compiled;

    public BicepTemplateTests(Compiled compiled) => _compiled = compiled;

    [GeneratedRegex(@"'([A-Za-z]+__[A-Za-z_]+(?:__\{0\})?)'")]
    private static partial Regex SettingName();

    public sealed class Compiled
    {
        public Compiled()
        {
            var bicep = typeof(BicepTemplateTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPath").Value!;
            var root = OperationParityTests.RepositoryRoot();
            var start = new ProcessStartInfo(bicep) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "build", Path.Combine(root, "infra", "main.bicep"), "--stdout" })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            Diagnostics = process.StandardError.ReadToEnd();
            process.WaitForExit();
            ExitCode = process.ExitCode;
            Json = stdout.Result;
            Template = ExitCode == 0 ? JsonNode.Parse(Json)!.AsObject() : new JsonObject();
            Parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "infra", "main.parameters.json")))!.AsObject();
        }

        public int ExitCode { get; }

        public string Diagnostics { get; }

        public string Json { get; }

        public JsonObject Template { get; }

        public JsonObject Parameters { get; }

        /// <summary>Every resource, including those inside module deployments, with the template that holds it.</summary>
        public IEnumerable<(JsonObject Resource, JsonObject Template)> Resources() => Walk(Template);

        private static IEnumerable<(JsonObject, JsonObject)> Walk(JsonObject template)
        {
            var resources = template["resources"] switch
            {
                JsonArray array => array.Select(r => r!.AsObject()),
                JsonObject map => map.Select(p => p.Value!.AsObject()),
                _ => [],
            };
            foreach (var resource in resources)
            {
                yield return (resource, template);
                if ((string?)resource["type"] == "Microsoft.Resources/deployments")
                {
                    foreach (var nested in Walk(resource["properties"]!["template"]!.AsObject()))
                    {
                        yield return nested;
                    }
                }
            }
        }
    }

    private JsonObject Single(string type) => _compiled.Resources().Single(r => (string?)r.Resource["type"] == type).Resource;

    private static JsonNode Props(JsonObject resource) => resource["properties"]!;

    [Fact]
    public void Compiles_with_no_error_and_no_linter_warning()
    {
        Assert.True(_compiled.ExitCode == 0, _compiled.Diagnostics);
        Assert.True(string.IsNullOrWhiteSpace(_compiled.Diagnostics), _compiled.Diagnostics);
    }

    [Fact]
    public void Takes_environment_name_and_location_and_the_parameters_file_matches()
    {
        var parameters = _compiled.Template["parameters"]!.AsObject();
        Assert.Contains("environmentName", parameters.Select(p => p.Key));
        Assert.Contains("location", parameters.Select(p => p.Key));
        foreach (var (name, _) in _compiled.Parameters["parameters"]!.AsObject())
        {
            Assert.True(parameters.ContainsKey(name), $"main.parameters.json sets '{name}', which main.bicep does not declare");
        }
    }

    [Fact]
    public void Storage_allows_no_shared_key_no_public_blobs_and_tls_1_2_only()
    {
        var account = Props(Single("Microsoft.Storage/storageAccounts"));
        Assert.False((bool)account["allowSharedKeyAccess"]!);
        Assert.False((bool)account["allowBlobPublicAccess"]!);
        Assert.Equal("TLS1_2", (string?)account["minimumTlsVersion"]);
        Assert.True((bool)account["supportsHttpsTrafficOnly"]!);
        Assert.Single(_compiled.Resources(), r => (string?)r.Resource["type"] == "Microsoft.Storage/storageAccounts/tableServices/tables");
        Assert.Single(_compiled.Resources(), r => (string?)r.Resource["type"] == "Microsoft.Storage/storageAccounts/blobServices/containers");
        Assert.Single(_compiled.Resources(), r => (string?)r.Resource["type"] == "Microsoft.Storage/storageAccounts/queueServices/queues");
    }

    [Fact]
    public void Storage_creates_every_product_table_the_code_uses()
    {
        var storage = _compiled.Resources().Single(r => (string?)r.Resource["type"] == "Microsoft.Storage/storageAccounts").Template;
        var declared = storage["parameters"]!["tableNames"]!["defaultValue"]!.AsArray().Select(n => (string)n!).ToHashSet();
        var needed = TableNames.All.Where(t => t != TableNames.LocalSecrets);
        Assert.Superset(needed.ToHashSet(), declared);
        Assert.Subset(TableNames.All.ToHashSet(), declared);
    }

    [Fact]
    public void Storage_creates_the_delivery_queues_and_their_poison_queues_in_one_loop()
    {
        var storage = _compiled.Resources().Single(r => (string?)r.Resource["type"] == "Microsoft.Storage/storageAccounts").Template;
        var declared = storage["parameters"]!["queueNames"]!["defaultValue"]!.AsArray().Select(n => (string)n!).Order(StringComparer.Ordinal);
        string[] triggered = [DeliveryQueues.FanOutName, DeliveryQueues.AttemptsName];
        Assert.Equal(triggered.SelectMany(q => new[] { q, q + "-poison" }).Order(StringComparer.Ordinal), declared);

        var queues = Single("Microsoft.Storage/storageAccounts/queueServices/queues");
        Assert.Equal("[length(parameters('queueNames'))]", (string?)queues["copy"]!["count"]);
        Assert.Equal("[format('{0}/{1}/{2}', parameters('name'), 'default', parameters('queueNames')[copyIndex()])]", (string?)queues["name"]);
        Assert.Equal("[format('{0}/{1}', parameters('name'), 'default')]", (string?)Single("Microsoft.Storage/storageAccounts/queueServices")["name"]);
    }

    [Fact]
    public void The_identity_may_run_queue_triggers_and_host_leases_on_the_account_that_holds_them()
    {
        var storageAssignment = _compiled.Resources()
            .Where(r => (string?)r.Resource["type"] == "Microsoft.Authorization/roleAssignments")
            .Single(r => r.Resource["copy"] is not null);
        var roles = storageAssignment.Template["variables"]!["storageRoles"]!.AsArray().Select(n => (string)n!).ToList();

        Assert.Contains("974c5e8b-45b9-4653-ba55-5f855dd0fb88", roles); // Storage Queue Data Contributor: receive, delete, send to -poison
        Assert.Contains("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", roles); // Storage Blob Data Owner: the host's leases
        Assert.Equal("[length(variables('storageRoles'))]", (string?)storageAssignment.Resource["copy"]!["count"]);
        Assert.Equal("[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]", (string?)storageAssignment.Resource["scope"]);
        Assert.Equal(
            "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('storageRoles')[copyIndex()])]",
            (string?)Props(storageAssignment.Resource)["roleDefinitionId"]);

        // The roles are granted on the very account whose queues the app's triggers read.
        var modules = new Dictionary<string, string?>();
        foreach (var (resource, template) in _compiled.Resources())
        {
            if (template == _compiled.Template && (string?)resource["type"] == "Microsoft.Resources/deployments")
            {
                var parameters = resource["properties"]!["parameters"]!.AsObject();
                modules[(string)resource["name"]!] = parameters.TryGetPropertyValue("storageAccountName", out var account) ? (string?)account!["value"] : null;
            }
        }

        Assert.Contains("'Microsoft.Resources/deployments', 'storage')", modules["rbac"], StringComparison.Ordinal);
        Assert.Equal(modules["rbac"], modules["functionApp"]);
    }

    [Fact]
    public void Functions_host_reaches_its_queues_and_blobs_by_managed_identity()
    {
        var settings = Props(Single("Microsoft.Web/sites/config")).GetValue<string>();
        const string Account = @"reference\(resourceId\('Microsoft\.Storage/storageAccounts', parameters\('storageAccountName'\)\), '[\d-]+'\)";

        Assert.Matches($@"'AzureWebJobsStorage__queueServiceUri', {Account}\.primaryEndpoints\.queue\b", settings);
        Assert.Matches($@"'AzureWebJobsStorage__blobServiceUri', {Account}\.primaryEndpoints\.blob\b", settings);
        Assert.Contains("'AzureWebJobsStorage__credential', 'managedidentity'", settings, StringComparison.Ordinal);
        Assert.Contains("'AzureWebJobsStorage__clientId', parameters('identityClientId')", settings, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"'AzureWebJobsStorage'\s*,", settings);
    }

    [Fact]
    public void Key_vault_uses_rbac_soft_delete_and_purge_protection_with_configurable_public_access()
    {
        var vault = Props(Single("Microsoft.KeyVault/vaults"));
        Assert.True((bool)vault["enableRbacAuthorization"]!);
        Assert.True((bool)vault["enableSoftDelete"]!);
        Assert.True((bool)vault["enablePurgeProtection"]!);
        Assert.Equal("[parameters('publicNetworkAccess')]", (string?)vault["publicNetworkAccess"]);
        Assert.Contains("keyVaultPublicNetworkAccess", _compiled.Template["parameters"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void Function_app_is_flex_consumption_dotnet_10_https_only_tls_1_2_with_ftp_off()
    {
        var plan = Single("Microsoft.Web/serverfarms");
        Assert.Equal("FC1", (string?)plan["sku"]!["name"]);
        Assert.Equal("FlexConsumption", (string?)plan["sku"]!["tier"]);

        var site = Single("Microsoft.Web/sites");
        var properties = Props(site);
        Assert.True((bool)properties["httpsOnly"]!);
        Assert.Equal("1.2", (string?)properties["siteConfig"]!["minTlsVersion"]);
        Assert.Equal("Disabled", (string?)properties["siteConfig"]!["ftpsState"]);
        Assert.Equal("dotnet-isolated", (string?)properties["functionAppConfig"]!["runtime"]!["name"]);
        Assert.Equal("10.0", (string?)properties["functionAppConfig"]!["runtime"]!["version"]);
        Assert.Equal("UserAssignedIdentity", (string?)properties["functionAppConfig"]!["deployment"]!["storage"]!["authentication"]!["type"]);
        Assert.Equal("UserAssigned", (string?)site["identity"]!["type"]);

        var policies = _compiled.Resources().Where(r => (string?)r.Resource["type"] == "Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();
        Assert.Equal(2, policies.Count);
        Assert.All(policies, p => Assert.False((bool)Props(p.Resource)["allow"]!));
    }

    [Fact]
    public void Monitoring_has_local_auth_disabled()
    {
        Assert.True((bool)Props(Single("Microsoft.OperationalInsights/workspaces"))["features"]!["disableLocalAuth"]!);
        Assert.True((bool)Props(Single("Microsoft.Insights/components"))["DisableLocalAuth"]!);
    }

    [Fact]
    public void The_identity_gets_exactly_the_least_roles_named_by_scope_principal_and_role()
    {
        var rbac = _compiled.Resources().First(r => (string?)r.Resource["type"] == "Microsoft.Authorization/roleAssignments").Template;
        var variables = rbac["variables"]!.AsObject();
        var assignments = _compiled.Resources().Where(r => (string?)r.Resource["type"] == "Microsoft.Authorization/roleAssignments").Select(r => r.Resource).ToList();

        var roleIds = variables["storageRoles"]!.AsArray().Select(n => (string)n!)
            .Append((string)variables["keyVaultSecretsOfficer"]!)
            .Append((string)variables["monitoringMetricsPublisher"]!)
            .ToHashSet();
        Assert.Equal(
            new HashSet<string>
            {
                "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", // Storage Blob Data Owner
                "974c5e8b-45b9-4653-ba55-5f855dd0fb88", // Storage Queue Data Contributor
                "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", // Storage Table Data Contributor
                "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", // Key Vault Secrets Officer
                "3913510d-42f4-4e42-8a64-420c390055eb", // Monitoring Metrics Publisher
            },
            roleIds);
        Assert.Equal(3, assignments.Count);
        Assert.NotNull(assignments.Single(a => a["copy"] is not null)["copy"]);
        Assert.All(assignments, a =>
        {
            Assert.Matches(@"^\[guid\(resourceId\('[^']+', parameters\('\w+'\)\), parameters\('principalId'\), variables\('\w+'\)(\[copyIndex\(\)\])?\)\]$", (string)a["name"]!);
            Assert.Equal("[parameters('principalId')]", (string?)Props(a)["principalId"]);
        });
    }

    [Fact]
    public void App_settings_cover_every_setting_the_code_needs_and_name_real_options()
    {
        // Setting names stand as string literals in the compiled expressions (only the app settings use '__').
        var names = SettingName().Matches(_compiled.Json).Select(m => m.Groups[1].Value).ToHashSet();

        var options = new Dictionary<string, Type>
        {
            [StorageOptions.Section] = typeof(StorageOptions),
            [KeyVaultOptions.Section] = typeof(KeyVaultOptions),
            [WebhookOptions.Section] = typeof(WebhookOptions),
            [AuthOptions.Section] = typeof(AuthOptions),
            [ApiOptions.Section] = typeof(ApiOptions),
        };
        var required = new[]
        {
            $"{StorageOptions.Section}__{nameof(StorageOptions.TableServiceUri)}",
            $"{StorageOptions.Section}__{nameof(StorageOptions.QueueServiceUri)}",
            $"{StorageOptions.Section}__{nameof(StorageOptions.BlobServiceUri)}",
            $"{KeyVaultOptions.Section}__{nameof(KeyVaultOptions.VaultUri)}",
            $"{WebhookOptions.Section}__{nameof(WebhookOptions.MaxPerApplication)}",
            $"{WebhookOptions.Section}__{nameof(WebhookOptions.EventTypes)}__{{0}}",
            $"{AuthOptions.Section}__{nameof(AuthOptions.CacheSeconds)}",
            $"{ApiOptions.Section}__{nameof(ApiOptions.RequestTimeoutSeconds)}",
            "Azure__ManagedIdentityClientId",
            "AzureWebJobsStorage__accountName",
            "AzureWebJobsStorage__blobServiceUri",
            "AzureWebJobsStorage__queueServiceUri",
            "AzureWebJobsStorage__credential",
            "AzureWebJobsStorage__clientId",
        };

        Assert.Subset(names, required.ToHashSet());
        foreach (var name in names)
        {
            var parts = name.Split("__");
            if (options.TryGetValue(parts[0], out var type))
            {
                Assert.True(type.GetProperty(parts[1]) is not null, $"App setting {name} names no property of {type.Name}");
            }
        }

        Assert.DoesNotContain("AccountKey", _compiled.Json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("listKeys", _compiled.Json, StringComparison.Ordinal);
        Assert.DoesNotContain("ConnectionString", names);
    }

    [Fact]
    public void Outputs_give_the_hostname_the_vault_uri_and_the_table_endpoint()
    {
        var outputs = _compiled.Template["outputs"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("FUNCTION_APP_HOSTNAME", outputs);
        Assert.Contains("KEY_VAULT_URI", outputs);
        Assert.Contains("TABLE_ENDPOINT", outputs);
    }
}
