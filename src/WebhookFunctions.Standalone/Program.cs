using WebhookFunctions.Standalone;

await StandaloneApp.Build(args).RunAsync();
