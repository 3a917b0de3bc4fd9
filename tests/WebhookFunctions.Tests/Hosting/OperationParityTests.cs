using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Hosting;

/// <summary>
/// The Functions app cannot be built on every machine, so its function files are read as source: each
/// must name an operation, its method and its route constant exactly as the standalone host maps it.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed partial class OperationParityTests(ApiFixture fixture)
{
    [GeneratedRegex(@"\[Function\(ApiOperations\.(?<name>\w+)\)\]\s*public\s+Task<IResult>\s+Run\(\s*\[HttpTrigger\(AuthorizationLevel\.Anonymous,\s*""(?<method>\w+)"",\s*Route\s*=\s*Routes\.(?<route>\w+)\)\]")]
    private static partial Regex FunctionDeclaration();

    [GeneratedRegex(@"\[Function\(nameof\((?<name>\w+)\)\)\]\s*public\s+Task\s+Run\(\[TimerTrigger\(""(?<schedule>[^""]+)""\)\]\s*TimerInfo\s+\w+,\s*CancellationToken\s+cancellationToken\)\s*=>\s*sweeper\.SweepAsync\(cancellationToken\);")]
    private static partial Regex TimerDeclaration();

    [Fact]
    public void Functions_app_runs_the_orphan_sweep_on_an_hourly_timer()
    {
        var source = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "WebhookFunctions", "Functions", "SweepOrphanSecrets.cs"));

        var timer = Assert.Single(TimerDeclaration().Matches(source));
        Assert.Equal("SweepOrphanSecrets", timer.Groups["name"].Value);
        Assert.Equal(6, timer.Groups["schedule"].Value.Split(' ').Length);
        Assert.Matches(@"^\d+ \d+ \* \* \* \*$", timer.Groups["schedule"].Value);
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
        var root = RepositoryRoot();
        var routes = typeof(Routes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!);
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src", "WebhookFunctions"), "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                                 && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var source = File.ReadAllText(file);
            var declarations = FunctionDeclaration().Matches(source);
            var attributes = Regex.Count(source, @"\[Function\(");
            Assert.True(declarations.Count + TimerDeclaration().Count(source) == attributes, $"{file}: a [Function] declaration does not have the expected shape");
            foreach (Match match in declarations)
            {
                Assert.True(Path.GetFileNameWithoutExtension(file) == match.Groups["name"].Value, $"{file} should be named after its function");
                found.Add($"{match.Groups["name"].Value} {match.Groups["method"].Value.ToUpperInvariant()} {routes[match.Groups["route"].Value]}");
            }
        }

        return found.Order(StringComparer.Ordinal).ToList();
    }

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
