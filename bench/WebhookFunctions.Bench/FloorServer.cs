using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using WebhookFunctions.Development;

namespace WebhookFunctions.Bench;

/// <summary>
/// The floor: an ASP.NET Core app built like the standalone host (<c>WebApplication.CreateBuilder</c>,
/// the same Kestrel defaults, environment and configuration sources, routing) that answers every GET
/// with a tiny JSON 200 and does no work. Hosted in its own process, as the API host is, so the
/// difference between the two is what the API does, not where it runs.
/// </summary>
public static class FloorServer
{
    public const string Argument = "--floor-server";

    private static readonly byte[] Body = """{"id":"floor"}"""u8.ToArray();

    public static async Task RunAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var app = builder.Build();
        app.UseRouting();
        app.MapGet("/{**path}", context =>
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.ContentLength = Body.Length;
            return context.Response.Body.WriteAsync(Body).AsTask();
        });
        await app.RunAsync();
    }
}

/// <summary>The floor server as a child process of the benchmark, started with the same arguments the standalone host gets.</summary>
public sealed class FloorProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private FloorProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<FloorProcess> StartAsync(string directory)
    {
        var port = AzuriteProcess.FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = Environments.Development;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = Environments.Development;
        start.ArgumentList.Add(Path.Combine(directory, "WebhookFunctions.Bench.dll"));
        start.ArgumentList.Add(FloorServer.Argument);
        start.ArgumentList.Add($"--Urls=http://127.0.0.1:{port}");
        start.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the floor server.");
        var floor = new FloorProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { floor._output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { floor._output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var probe = new HttpClient { BaseAddress = floor.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var elapsed = Stopwatch.StartNew();
        while (elapsed.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
        {
            try
            {
                using var response = await probe.GetAsync(new Uri("/api/health", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return floor;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(20);
        }

        await floor.DisposeAsync();
        throw new InvalidOperationException("The floor server did not answer within 60 s. Its output:\n" + string.Join('\n', floor._output));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
