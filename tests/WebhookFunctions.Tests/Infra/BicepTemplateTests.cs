using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Telemetry;
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
public sealed class BicepTemplateTests : IClassFixture<BicepTemplateTests.Compiled>
{
    private readonly Compiled _compiled;

    public BicepTemplateTests(Compiled compiled) => _compiled = compiled;

    public sealed class Compiled
    {
        private static readonly TimeSpan CompileTimeout = TimeSpan.FromMinutes(2);

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
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(CompileTimeout) || !Task.WaitAll([stdout, stderr], CompileTimeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"bicep build did not finish within {CompileTimeout.TotalSeconds} s");
            }

            Diagnostics = stderr.Result;
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
        string[] triggered = [DeliveryQueues.FanOutName, DeliveryQueues.AttemptsName, DeliveryQueues.JobsName, DeliveryQueues.VerificationsName];
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
    public void Telemetry_goes_to_the_Application_Insights_the_identity_may_publish_to()
    {
        // The app exports to Azure Monitor only when this setting is present, and authenticates with an
        // Entra token of its identity (local auth is off), which needs Monitoring Metrics Publisher on
        // that same component.
        var component = "resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))";
        var appSettings = (string)Props(Single("Microsoft.Web/sites/config"))!;
        Assert.Contains($"'{TelemetryHostingExtensions.ApplicationInsightsConnectionStringSetting}', reference({component}, '2020-02-02').ConnectionString", appSettings, StringComparison.Ordinal);

        var publisher = _compiled.Resources().Select(r => r.Resource)
            .Single(r => (string?)r["type"] == "Microsoft.Authorization/roleAssignments" && ((string?)Props(r)["roleDefinitionId"])!.Contains("monitoringMetricsPublisher", StringComparison.Ordinal));
        Assert.Equal($"[{component}]", (string?)publisher["scope"]);

        var modules = _compiled.Resources().Where(r => r.Template == _compiled.Template && (string?)r.Resource["type"] == "Microsoft.Resources/deployments")
            .ToDictionary(r => (string)r.Resource["name"]!, r => r.Resource);
        string ComponentPassedTo(string module) => (string)modules[module]["properties"]!["parameters"]!["applicationInsightsName"]!["value"]!;
        Assert.Equal(ComponentPassedTo("rbac"), ComponentPassedTo("functionApp"));
    }

    [Fact]
    public void App_settings_cover_every_setting_the_code_needs_and_name_real_options()
    {
        var names = AppSettingNames();

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

        // Storage is reached by identity only: a bare AzureWebJobsStorage setting is the connection-string form.
        Assert.DoesNotContain("AzureWebJobsStorage", names);
        // Application Insights' connection string holds no secret, and with the authentication string
        // set ingestion needs Entra ID; any other connection string would carry a key.
        const string Insights = "APPLICATIONINSIGHTS_CONNECTION_STRING";
        Assert.DoesNotContain(names, n => n != Insights && n.Replace("_", string.Empty, StringComparison.Ordinal).Contains("ConnectionString", StringComparison.OrdinalIgnoreCase));
        Assert.True(!names.Contains(Insights) || names.Contains("APPLICATIONINSIGHTS_AUTHENTICATION_STRING"), "Application Insights without Entra ID authentication");
    }

    /// <summary>
    /// Every app setting name of the site, read from the compiled ARM expression that builds them, so
    /// that a setting of any spelling is seen. A shape this cannot read fails the test rather than
    /// hiding settings from it.
    /// </summary>
    private HashSet<string> AppSettingNames()
    {
        var properties = Props(Single("Microsoft.Web/sites/config"));
        if (properties is JsonObject literal)
        {
            return [.. literal.Select(p => p.Key)];
        }

        var expression = (string)properties!;
        Assert.True(expression.StartsWith('[') && expression.EndsWith(']'), $"app settings are neither an object nor an expression: {expression}");
        return [.. SettingNames(ArmExpression.Parse(expression[1..^1]))];
    }

    private static IEnumerable<string> SettingNames(object node) => node switch
    {
        ArmExpression.Call { Function: "union" } union => union.Arguments.SelectMany(SettingNames),
        ArmExpression.Call { Function: "createObject" } create => create.Arguments.Where((_, i) => i % 2 == 0).Select(key =>
            key as string ?? throw new InvalidOperationException($"an app setting name that is not a literal: {key}")),
        ArmExpression.Call { Function: "toObject", Arguments: [_, ArmExpression.Call { Function: "lambda", Arguments: [string, var key] }, _] } => [key switch
        {
            string name => name,
            ArmExpression.Call { Function: "format", Arguments: [string pattern, ..] } => pattern,
            _ => throw new InvalidOperationException($"an app setting name this test cannot read: {key}"),
        }],
        _ => throw new InvalidOperationException($"app settings built in a way this test cannot read: {node}"),
    };

    /// <summary>Just enough of the ARM expression language to find the keys of the objects it builds.</summary>
    private sealed class ArmExpression
    {
        private readonly string _text;
        private int _at;

        private ArmExpression(string text) => _text = text;

        /// <summary>A function call; an argument is a string literal, another call, or <see cref="Other"/>.</summary>
        public sealed record Call(string Function, IReadOnlyList<object> Arguments)
        {
            public override string ToString() => $"{Function}(...)";
        }

        /// <summary>Numbers, property access and indexing: values, never setting names.</summary>
        public sealed record Other;

        public static object Parse(string text)
        {
            var parser = new ArmExpression(text);
            var value = parser.Value();
            parser.SkipSpace();
            return parser._at == text.Length ? value : throw parser.Error("end of expression");
        }

        private object Value()
        {
            SkipSpace();
            object value;
            if (Peek() == '\'')
            {
                value = Literal();
            }
            else if (char.IsAsciiDigit(Peek()) || Peek() == '-')
            {
                _at++;
                while (char.IsAsciiDigit(Peek()) || Peek() == '.')
                {
                    _at++;
                }

                value = new Other();
            }
            else
            {
                var name = Identifier();
                Expect('(');
                var arguments = new List<object>();
                SkipSpace();
                if (Peek() != ')')
                {
                    do
                    {
                        arguments.Add(Value());
                        SkipSpace();
                    }
                    while (TryTake(','));
                }

                Expect(')');
                value = new Call(name, arguments);
            }

            while (true)
            {
                SkipSpace();
                if (TryTake('.'))
                {
                    Identifier();
                    value = new Other();
                }
                else if (TryTake('['))
                {
                    Value();
                    Expect(']');
                    value = new Other();
                }
                else
                {
                    return value;
                }
            }
        }

        private string Literal()
        {
            var text = new System.Text.StringBuilder();
            _at++;
            while (true)
            {
                if (_at >= _text.Length)
                {
                    throw Error("closing quote");
                }

                if (_text[_at] == '\'')
                {
                    if (_at + 1 < _text.Length && _text[_at + 1] == '\'')
                    {
                        text.Append('\'');
                        _at += 2;
                        continue;
                    }

                    _at++;
                    return text.ToString();
                }

                text.Append(_text[_at++]);
            }
        }

        private string Identifier()
        {
            SkipSpace();
            var start = _at;
            while (char.IsAsciiLetterOrDigit(Peek()) || Peek() == '_')
            {
                _at++;
            }

            return _at > start ? _text[start.._at] : throw Error("a name");
        }

        private char Peek() => _at < _text.Length ? _text[_at] : '\0';

        private bool TryTake(char c)
        {
            SkipSpace();
            if (Peek() != c)
            {
                return false;
            }

            _at++;
            return true;
        }

        private void Expect(char c)
        {
            if (!TryTake(c))
            {
                throw Error($"'{c}'");
            }
        }

        private void SkipSpace()
        {
            while (char.IsWhiteSpace(Peek()))
            {
                _at++;
            }
        }

        private FormatException Error(string expected) => new($"expected {expected} at {_at} of {_text}");
    }

    [Fact]
    public void Outputs_give_the_hostname_the_vault_uri_and_the_table_endpoint()
    {
        var outputs = _compiled.Template["outputs"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("FUNCTION_APP_HOSTNAME", outputs);
        Assert.Contains("KEY_VAULT_URI", outputs);
        Assert.Contains("TABLE_ENDPOINT", outputs);
        Assert.Contains("AZURE_RESOURCE_GROUP", outputs);
        Assert.Contains("AZURE_LOCATION", outputs);
    }

    [Fact]
    public void Azure_yaml_provisions_the_infra_folder_and_deploys_the_existing_functions_project_to_the_tagged_app()
    {
        var root = OperationParityTests.RepositoryRoot();
        var azure = AzureYaml.Read(Path.Combine(root, "azure.yaml"));

        Assert.False(string.IsNullOrWhiteSpace(azure.GetValueOrDefault("name")));
        Assert.Matches(@"^[\w.-]+@\d+\.\d+\.\d+$", azure.GetValueOrDefault("metadata.template"));
        Assert.Equal("bicep", azure.GetValueOrDefault("infra.provider", "bicep"));
        var infra = Path.Combine(root, azure.GetValueOrDefault("infra.path", "infra"));
        Assert.Equal(Path.Combine(root, "infra"), Path.TrimEndingDirectorySeparator(Path.GetFullPath(infra)));
        Assert.True(File.Exists(Path.Combine(infra, azure.GetValueOrDefault("infra.module", "main") + ".bicep")));

        var service = Assert.Single(azure.Keys.Where(k => k.StartsWith("services.", StringComparison.Ordinal)).Select(k => k.Split('.')[1]).Distinct());
        Assert.Equal("dotnet", azure[$"services.{service}.language"]);
        Assert.Equal("function", azure[$"services.{service}.host"]);
        var project = Path.GetFullPath(Path.Combine(root, azure[$"services.{service}.project"]));
        Assert.True(Directory.Exists(project), $"services.{service}.project names {project}, which does not exist");
        var csproj = Assert.Single(Directory.GetFiles(project, "*.csproj"));
        Assert.Contains("<AzureFunctionsVersion>", File.ReadAllText(csproj), StringComparison.Ordinal);

        // azd deploys to the one resource tagged azd-service-name: <service>; a second one would stop it.
        var tagged = _compiled.Resources().Where(r => r.Resource["tags"]?.ToJsonString().Contains("azd-service-name", StringComparison.Ordinal) == true).ToList();
        Assert.Equal("Microsoft.Web/sites", (string?)Assert.Single(tagged).Resource["type"]);
        var module = _compiled.Resources().Single(r => (string?)r.Resource["type"] == "Microsoft.Resources/deployments" && (string?)r.Resource["name"] == "functionApp").Resource;
        Assert.Equal(service, (string?)Props(module)["parameters"]!["azdServiceName"]!["value"]);
    }

    [Fact]
    public void The_parameters_file_takes_the_environment_name_and_location_from_azd()
    {
        var parameters = _compiled.Parameters["parameters"]!;
        Assert.Equal("${AZURE_ENV_NAME}", (string?)parameters["environmentName"]!["value"]);
        Assert.Equal("${AZURE_LOCATION}", (string?)parameters["location"]!["value"]);
    }

    /// <summary>
    /// Enough YAML for azure.yaml: nested maps of scalars by indentation, as dotted keys. A list or
    /// anything else it does not know fails the test rather than being misread.
    /// </summary>
    private static class AzureYaml
    {
        public static Dictionary<string, string> Read(string path)
        {
            var values = new Dictionary<string, string>();
            var parents = new List<(int Indent, string Key)>();
            foreach (var raw in File.ReadAllLines(path))
            {
                var line = raw.Split(" #")[0].TrimEnd();
                if (line.TrimStart().Length == 0 || line.TrimStart().StartsWith('#'))
                {
                    continue;
                }

                var indent = line.Length - line.TrimStart().Length;
                var separator = line.IndexOf(':', StringComparison.Ordinal);
                Assert.True(separator > 0 && !line.TrimStart().StartsWith('-'), $"azure.yaml: cannot read '{raw}'");
                parents.RemoveAll(p => p.Indent >= indent);
                var key = string.Join('.', parents.Select(p => p.Key).Append(line[indent..separator].Trim()));
                var value = line[(separator + 1)..].Trim().Trim('"', '\'');
                if (value.Length == 0)
                {
                    parents.Add((indent, line[indent..separator].Trim()));
                }
                else
                {
                    values[key] = value;
                }
            }

            return values;
        }
    }
}
