using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Hosting;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Hosting;

/// <summary>
/// The Functions app cannot be built on every machine, so its function files are read as source: each
/// HTTP function must name an operation, its method and its route constant exactly as the standalone
/// host maps it, and every other function must be in the library's table of background functions with
/// the same trigger and the same schedule or queue.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed partial class OperationParityTests(ApiFixture fixture)
{
    [GeneratedRegex(@"\[Function\(ApiOperations\.(?<name>\w+)\)\]\s*public\s+Task<IResult>\s+Run\(\s*\[HttpTrigger\(AuthorizationLevel\.Anonymous,\s*""(?<method>\w+)"",\s*Route\s*=\s*Routes\.(?<route>\w+)\)\]")]
    private static partial Regex FunctionDeclaration();

    [GeneratedRegex(@"\[Function\((?<name>[^)]+)\)\]\s*public\s+[^(]+\s+Run\(\s*\[(?<trigger>\w+)Trigger\(")]
    private static partial Regex AnyFunctionDeclaration();

    [Fact]
    public void Functions_app_declares_exactly_the_library_background_functions_with_their_triggers()
    {
        var expected = BackgroundFunctions.All.Select(f => $"{f.Name} {f.Trigger}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, FunctionsAppDeclarations().Where(d => !d.EndsWith(" HttpTrigger", StringComparison.Ordinal)).ToList());
    }

    /// <summary>A background function: its name, its trigger's schedule or queue constant, the trigger's options and what it binds to.</summary>
    [GeneratedRegex(@"\[Function\(BackgroundFunctions\.(?<name>\w+)\)\]\s*public\s+(?:async\s+)?Task\s+Run\(\s*\[(?<trigger>Queue|Timer)Trigger\((?<owner>BackgroundFunctions|DeliveryQueues)\.(?<source>\w+)(?<options>[^\]]*)\)\]\s*(?<type>\w+)\s+\w+,\s*CancellationToken\s+cancellationToken\)\s*(?:=>|\{)")]
    private static partial Regex BackgroundDeclaration();

    [Fact]
    public void Functions_app_background_functions_start_from_the_library_schedule_or_queue()
    {
        var found = new List<string>();
        foreach (var file in FunctionFiles())
        {
            foreach (Match match in BackgroundDeclaration().Matches(File.ReadAllText(file)))
            {
                var owner = match.Groups["owner"].Value == nameof(DeliveryQueues) ? typeof(DeliveryQueues) : typeof(BackgroundFunctions);
                var source = (string)owner.GetField(match.Groups["source"].Value)!.GetRawConstantValue()!;
                if (match.Groups["trigger"].Value == "Queue")
                {
                    // Identity-based in Azure (AzureWebJobsStorage__queueServiceUri and __credential), so no key is needed.
                    Assert.Equal(", Connection = \"AzureWebJobsStorage\"", match.Groups["options"].Value);
                    // The host-side queue extension binds a string or a POCO; QueueMessage needs SDK-type binding.
                    Assert.Equal("string", match.Groups["type"].Value);
                }
                else
                {
                    Assert.Equal(string.Empty, match.Groups["options"].Value);
                    Assert.Equal("TimerInfo", match.Groups["type"].Value);
                }

                found.Add($"{match.Groups["name"].Value} {match.Groups["trigger"].Value}Trigger {source}");
            }
        }

        var expected = BackgroundFunctions.All.Select(f => $"{f.Name} {f.Trigger} {f.Source}").Order(StringComparer.Ordinal);
        Assert.Equal(expected, found.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(nameof(BackgroundFunctions.FanOutEvent), nameof(FanOutProcessor), nameof(FanOutMessage))]
    [InlineData(nameof(BackgroundFunctions.AttemptDelivery), nameof(AttemptProcessor), nameof(AttemptMessage))]
    public void Queue_functions_hand_each_message_to_its_processor_and_throw_on_one_they_cannot_read(string function, string processor, string message)
    {
        var source = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "WebhookFunctions", "Functions", function + ".cs"));

        Assert.Contains($"({processor} processor)", source, StringComparison.Ordinal);
        // A message that does not read must fail the invocation: the host retries it, then moves it to {queue}-poison.
        Assert.Matches(
            $@"processor\.HandleAsync\(\s*DeliveryQueues\.Deserialize<{message}>\(message\)\s*\?\?\s*throw new \w+\([^;]*\),\s*cancellationToken\);",
            source);
    }

    [Fact]
    public void Functions_app_sweeps_deliveries_every_minute_with_the_library_sweeper()
    {
        var source = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "WebhookFunctions", "Functions", "SweepDeliveries.cs"));

        Assert.Contains("(DeliverySweeper sweeper)", source, StringComparison.Ordinal);
        Assert.Contains("sweeper.SweepAsync(cancellationToken)", source, StringComparison.Ordinal);
        Assert.Equal("0 * * * * *", BackgroundFunctions.SweepDeliveriesSchedule);
        Assert.Equal(60, new DeliveryOptions().SweepIntervalSeconds);
    }

    [Fact]
    public void Functions_app_composes_the_http_api_and_leaves_queue_polling_to_the_host()
    {
        var program = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "WebhookFunctions", "Program.cs"));

        Assert.Contains("builder.AddWebhookHttpApi();", program, StringComparison.Ordinal);
        // The standalone host's pumps would compete with the queue triggers for the same messages.
        Assert.DoesNotContain("AddDeliveryWorkers", program, StringComparison.Ordinal);
    }

    [Fact]
    public void Host_json_queue_settings_match_what_the_standalone_workers_do()
    {
        var queues = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "host.json")))!["extensions"]!["queues"]!;
        var defaults = new DeliveryOptions();

        Assert.Equal(defaults.MaxDequeueCount, (int)queues["maxDequeueCount"]!);
        Assert.Equal(defaults.BatchSize, (int)queues["batchSize"]!);
        Assert.Equal("base64", (string?)queues["messageEncoding"]);
        Assert.InRange((int)queues["newBatchThreshold"]!, 0, defaults.BatchSize - 1);
        // A failed message comes back after a short pause, as in the standalone workers.
        Assert.Equal(TimeSpan.FromSeconds(10), TimeSpan.Parse((string)queues["visibilityTimeout"]!, CultureInfo.InvariantCulture));
        // An idle instance notices new work within seconds (the extension's default is a minute).
        Assert.InRange(
            TimeSpan.Parse((string)queues["maxPollingInterval"]!, CultureInfo.InvariantCulture),
            TimeSpan.FromMilliseconds(100),
            TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Functions_app_runs_the_orphan_sweep_on_an_hourly_timer()
    {
        var source = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "WebhookFunctions", "Functions", "SweepOrphanSecrets.cs"));

        Assert.Contains("[TimerTrigger(BackgroundFunctions.SweepOrphanSecretsSchedule)]", source, StringComparison.Ordinal);
        Assert.Contains("sweeper.SweepAsync(cancellationToken)", source, StringComparison.Ordinal);
        Assert.Matches(@"^0 \d+ \* \* \* \*$", BackgroundFunctions.SweepOrphanSecretsSchedule);
    }

    [Fact]
    public void Functions_app_declares_exactly_the_library_operations()
    {
        Assert.Equal(Describe(ApiOperations.All), FunctionsAppOperations());
    }

    [Fact]
    public void Standalone_host_maps_exactly_the_library_operations()
    {
        var endpoints = fixture.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        var mapped = endpoints
            .Select(e => (
                Name: e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName,
                Methods: e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods,
                Route: e.RoutePattern.RawText))
            .Where(e => e.Name is not null)
            .Select(e => $"{e.Name} {string.Join(',', e.Methods!)} {e.Route}")
            .Order(StringComparer.Ordinal)
            .ToList();

        var expected = ApiOperations.All.Select(o => $"{o.Name} {o.Method} /{Routes.Prefix}/{o.Route}").Order(StringComparer.Ordinal);
        Assert.Equal(expected, mapped);
    }

    [Fact]
    public void Both_hosts_agree_on_the_operation_set()
    {
        var functions = FunctionsAppOperations().Select(o => o.Split(' ')[0]).ToHashSet();
        var standalone = fixture.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName)
            .OfType<string>()
            .ToHashSet();

        Assert.Equal(functions.Order(), standalone.Order());
    }

    private static List<string> Describe(IEnumerable<ApiOperation> operations) =>
        operations.Select(o => $"{o.Name} {o.Method} {o.Route}").Order(StringComparer.Ordinal).ToList();

    private static List<string> FunctionsAppOperations()
    {
        var routes = typeof(Routes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!);
        var found = new List<string>();
        foreach (var file in FunctionFiles())
        {
            var source = File.ReadAllText(file);
            var declarations = FunctionDeclaration().Matches(source);
            var attributes = Regex.Count(source, @"\[Function\(");
            Assert.True(AnyFunctionDeclaration().Count(source) == attributes, $"{file}: a [Function] declaration does not have the expected shape");
            Assert.True(
                declarations.Count == Regex.Count(source, @"\[HttpTrigger\("),
                $"{file}: an HTTP function does not name its operation, method and route constant in the expected shape");
            foreach (Match match in declarations)
            {
                Assert.True(Path.GetFileNameWithoutExtension(file) == match.Groups["name"].Value, $"{file} should be named after its function");
                found.Add($"{match.Groups["name"].Value} {match.Groups["method"].Value.ToUpperInvariant()} {routes[match.Groups["route"].Value]}");
            }
        }

        return found.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Every [Function] of the Functions app as "Name Trigger", names resolved from their constants.</summary>
    private static List<string> FunctionsAppDeclarations()
    {
        var found = new List<string>();
        foreach (var file in FunctionFiles())
        {
            foreach (Match match in AnyFunctionDeclaration().Matches(File.ReadAllText(file)))
            {
                var name = match.Groups["name"].Value;
                var resolved = Regex.Match(name, @"^(?:nameof\((?<n>\w+)\)|(?:ApiOperations|BackgroundFunctions)\.(?<n>\w+))$").Groups["n"].Value;
                Assert.False(string.IsNullOrEmpty(resolved), $"{file}: function name {name} is not a library constant");
                found.Add($"{resolved} {match.Groups["trigger"].Value}Trigger");
            }
        }

        return found.Order(StringComparer.Ordinal).ToList();
    }

    private static IEnumerable<string> FunctionFiles() =>
        Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "src", "WebhookFunctions"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "WebhookFunctions.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Repository root not found.");
    }
}
