using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Hosting;

/// <summary>
/// A client made by generators that know nothing of this code base (openapi-typescript for the types,
/// openapi-fetch for the calls; pinned in tools/openapi-client) from the document the host serves,
/// type-checked by tsc and run by node through the whole webhook lifecycle. What it did is then checked
/// through the API and at the receiver.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class GeneratedClientTests(ApiFixture fixture) : LocalDeliveryTests(fixture)
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(2);
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    [Fact]
    public async Task A_client_generated_from_the_served_document_runs_the_whole_webhook_lifecycle()
    {
        var tools = await PreparedToolsAsync();
        foreach (var output in new[] { "generated", "dist" }.Select(d => Path.Combine(tools, d)).Where(Directory.Exists))
        {
            Directory.Delete(output, recursive: true);
        }

        var tenant = await Host.NewTenantAsync();
        var generate = await RunAsync(tools, StepTimeout, [], "npm", "run", "--silent", "generate", "--", new Uri(Host.BaseAddress, "/api/openapi.json").ToString());
        generate.AssertSucceeded("openapi-typescript");
        Assert.True(File.Exists(Path.Combine(tools, "generated", "schema.d.ts")), "openapi-typescript wrote no generated/schema.d.ts");
        var build = await RunAsync(tools, StepTimeout, [], "npm", "run", "--silent", "build");
        build.AssertSucceeded("tsc");
        var lifecycle = await RunAsync(tools, StepTimeout,
            [
                ("BASE", Host.BaseAddress.ToString()),
                ("KEY", tenant.ApiKey),
                ("APP", tenant.ApplicationId),
                ("WEBHOOK_URL", Receiver.Url("/ok") + "?" + Guid.NewGuid().ToString("N")),
            ],
            "npm", "run", "--silent", "lifecycle");
        lifecycle.AssertSucceeded("lifecycle.ts");

        var summary = JsonNode.Parse(lifecycle.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1])!.AsObject();
        Assert.True((bool)summary["ok"]!);
        Assert.Equal(
            """{"create":201,"get":200,"list":200,"patch":200,"patchStale":412,"rotate":200,"test":200,"delete":204,"getDeleted":404}""",
            summary["statuses"]!.ToJsonString());
        Assert.Equal("SUCCEEDED", (string?)summary["testStatus"]);
        Assert.Equal(204, (int)summary["testHttpStatus"]!);

        // What the client did really happened: the webhook and its secret are gone, and the receiver
        // got one test event for that webhook, signed with the secret the rotation returned.
        var webhookId = (string)summary["webhookId"]!;
        using var gone = await tenant.Http.GetAsync(tenant.WebhookPath(webhookId));
        await gone.AssertErrorAsync(404);
        using var list = await tenant.Http.GetAsync(tenant.WebhooksPath);
        Assert.Empty((await list.BodyAsync()).GetProperty("items").EnumerateArray());
        Assert.Null(await Host.Secrets.Inner.GetAsync("whsec-" + webhookId, null, CancellationToken.None));
        var delivery = Assert.Single(Receiver.Deliveries);
        var payload = JsonDocument.Parse(delivery.Body).RootElement;
        Assert.Equal("webhook.test", payload.GetProperty("type").GetString());
        Assert.Equal(webhookId, payload.GetProperty("data").GetProperty("webhookId").GetString());
        Assert.True(delivery.VerifiesWith((string)summary["signingSecret"]!), "the test event does not verify with the rotated secret");
    }

    [Fact]
    public async Task The_generator_refuses_a_document_that_breaks_Redocly_recommended_rules()
    {
        // The generation step lints with Redocly's recommended rules (tools/openapi-client/redocly.yaml);
        // without this check a lint gate that had quietly gone would pass the lifecycle test all the same.
        var tools = await PreparedToolsAsync();
        using var client = Host.Client();
        var document = JsonNode.Parse(await client.GetStringAsync("/api/openapi.json"))!.AsObject();
        Assert.True(document.Remove("servers"));
        var path = Path.Combine(Path.GetTempPath(), $"openapi-no-servers-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, document.ToJsonString());
        try
        {
            var generate = await RunAsync(tools, StepTimeout, [], "npm", "run", "--silent", "generate", "--", path);

            Assert.NotEqual(0, generate.Exit);
            Assert.Contains("Servers must be present", generate.Stdout + generate.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>tools/openapi-client with its pinned packages installed (npm ci when they are missing).</summary>
    private static async Task<string> PreparedToolsAsync()
    {
        string? tools = null;
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null && tools is null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tools", "openapi-client");
            tools = File.Exists(Path.Combine(candidate, "package-lock.json")) ? candidate : null;
        }

        Assert.True(tools is not null, "tools/openapi-client/package-lock.json not found above the test output folder");
        string[] installed = ["node_modules/.bin/openapi-typescript", "node_modules/.bin/tsc", "node_modules/openapi-fetch/package.json", "node_modules/@types/node/package.json"];
        await InstallLock.WaitAsync();
        try
        {
            if (!installed.All(p => File.Exists(Path.Combine(tools, p))))
            {
                var install = await RunAsync(tools, InstallTimeout, [], "npm", "ci", "--no-audit", "--no-fund");
                install.AssertSucceeded("npm ci in tools/openapi-client");
            }
        }
        finally
        {
            InstallLock.Release();
        }

        return tools;
    }

    private static async Task<Run> RunAsync(string directory, TimeSpan timeout, (string Name, string Value)[] environment, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var command = $"{file} {string.Join(' ', arguments)}";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"Could not start {file} (Node.js 20+ with npm must be on PATH): {e.Message}", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
                Assert.Fail($"{command} did not finish within {timeout.TotalSeconds:F0} s\nstdout:\n{await stdout}\nstderr:\n{await stderr}");
            }

            return new Run(command, process.ExitCode, await stdout, await stderr);
        }
    }

    private sealed record Run(string Command, int Exit, string Stdout, string Stderr)
    {
        public void AssertSucceeded(string what) =>
            Assert.True(Exit == 0, FormattableString.Invariant($"{what} failed: `{Command}` exited with {Exit}\nstdout:\n{Stdout}\nstderr:\n{Stderr}"));
    }
}
