using Microsoft.Playwright;

namespace CaptionSidecar.Tests.Support.Browser;

/// <summary>Opens pages with a fresh context and collects console errors (a CSP violation shows up there).</summary>
public sealed class BrowserPages(IBrowser browser) : IAsyncDisposable
{
    private readonly List<IBrowserContext> _contexts = [];

    public List<string> ConsoleErrors { get; } = [];

    public async Task<IPage> OpenAsync(string url, int width = 1280, int height = 720)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15000);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (ConsoleErrors)
                {
                    ConsoleErrors.Add(message.Text);
                }
            }
        };
        await page.GotoAsync(url);
        return page;
    }

    /// <summary>Console errors other than the failed connections a reconnect test causes on purpose.</summary>
    public string[] UnexpectedErrors()
    {
        lock (ConsoleErrors)
        {
            return [.. ConsoleErrors.Where(e => !e.Contains("WebSocket connection", StringComparison.Ordinal))];
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.DisposeAsync();
        }
    }
}
