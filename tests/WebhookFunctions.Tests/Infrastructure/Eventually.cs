namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>Waits for asynchronous work (a delivery, a retry) with a deadline, and fails with a message rather than hanging.</summary>
public static class Eventually
{
    public static Task Async(Func<bool> condition, TimeSpan within, string? what = null) =>
        Async(() => Task.FromResult(condition()), within, what);

    public static Task Async(Func<bool> condition, TimeSpan within, Func<string> what) =>
        Async(() => Task.FromResult(condition()), within, what);

    public static Task Async(Func<Task<bool>> condition, TimeSpan within, string? what = null) =>
        Async(condition, within, () => what ?? "the condition");

    public static async Task Async(Func<Task<bool>> condition, TimeSpan within, Func<string> what)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not true within {within.TotalSeconds:0.#} s: {what()}");
            }

            await Task.Delay(50);
        }
    }
}
