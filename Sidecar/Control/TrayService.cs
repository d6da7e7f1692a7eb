using System.Diagnostics;
using System.Runtime.InteropServices;
using CaptionSidecar.Hosting;
using CaptionSidecar.Overlay;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace CaptionSidecar.Control;

/// <summary>The platform's notify icon: draws a <see cref="TrayMenuModel"/> and reports clicks.</summary>
internal interface ITrayIcon : IDisposable
{
    /// <summary>Adds the icon with <paramref name="model"/>'s tooltip and menu.</summary>
    void Show(TrayMenuModel model);

    /// <summary>Replaces the tooltip and menu; callable from any thread.</summary>
    void Update(TrayMenuModel model);

    /// <summary>Puts <paramref name="text"/> on the clipboard (the shell owns the window the clipboard needs).</summary>
    void CopyToClipboard(string text);
}

/// <summary>Creates the platform's <see cref="ITrayIcon"/>; tests give their own.</summary>
internal interface ITrayIconFactory
{
    /// <summary>Creates an icon that hands each clicked item's id to <paramref name="onClick"/> on the thread pool.</summary>
    ITrayIcon Create(Func<string, Task> onClick);
}

/// <summary>Opens URLs in the default browser, copies through the tray icon, and quits by stopping the host.</summary>
internal sealed class TrayShellActions(IHostApplicationLifetime lifetime, Action<string> copyToClipboard) : ITrayShellActions
{
    public void OpenUrl(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        using var browser = Process.Start(new ProcessStartInfo(url.AbsoluteUri) { UseShellExecute = true });
    }

    public void OpenFolder(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var explorer = Process.Start(new ProcessStartInfo(path) { UseShellExecute = true });
    }

    public void CopyToClipboard(string text) => copyToClipboard(text);

    public void Quit() => lifetime.StopApplication();
}

/// <summary>
/// The moderators' tray icon on Windows: once the HTTP server listens, shows the icon and refreshes its menu every
/// <see cref="RefreshInterval"/>. On other systems it does nothing.
/// </summary>
internal sealed partial class TrayService(
    ISidecarControl surface,
    IHostApplicationLifetime lifetime,
    IServer server,
    ControlToken token,
    DataFolders folders,
    TimeProvider time,
    ILogger<TrayService> logger,
    ITrayIconFactory? iconFactory = null) : IHostedService, IDisposable
{
    /// <summary>How often the menu and tooltip are rebuilt from the sidecar's state.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stopping = new();
    // Set on the ApplicationStarted callback's thread, awaited by StopAsync on another.
    private volatile Task _run = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsWindows())
        {
            LogNoTray(logger, RuntimeInformation.OSDescription);
            return Task.CompletedTask;
        }

        var factory = iconFactory ?? new TrayIconWin32Factory(logger);
        lifetime.ApplicationStarted.Register(() =>
        {
            // The URLs need the port Kestrel really listens on, known only once the server has started.
            var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            if (address is null)
            {
                LogNoAddress(logger);
                return;
            }

            var port = new Uri(address).Port;
            _run = Task.Run(async () =>
            {
                try
                {
                    await RunAsync(factory, OverlayKestrel.OverlayUrl(port), OverlayKestrel.ControlLoginUrl(port, token), _stopping.Token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The tray is a convenience: the sidecar and its control page go on without it.
                    LogTrayFailed(logger, ex);
                }
            });
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _run.WaitAsync(cancellationToken);
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>Shows the icon and keeps its menu current until <paramref name="cancellationToken"/> is cancelled.</summary>
    internal async Task RunAsync(ITrayIconFactory factory, Uri overlayUrl, Uri controlUrl, CancellationToken cancellationToken)
    {
        ITrayIcon? icon = null;
        var menu = new TrayMenu(surface, new TrayShellActions(lifetime, text => icon?.CopyToClipboard(text)), overlayUrl, controlUrl, folders.Root);
        icon = factory.Create(id => ClickAsync(menu, icon, id, cancellationToken));
        using (icon)
        {
            var model = menu.Build();
            icon.Show(model);
            using var timer = new PeriodicTimer(RefreshInterval, time);
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken))
                {
                    model = Refresh(menu, icon, model);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The host is stopping; disposing the icon removes it from the taskbar.
            }
        }
    }

    private TrayMenuModel Refresh(TrayMenu menu, ITrayIcon icon, TrayMenuModel shown)
    {
        try
        {
            var next = menu.Build();
            if (!next.Equals(shown))
            {
                icon.Update(next);
            }

            return next;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRefreshFailed(logger, ex);
            return shown;
        }
    }

    private async Task ClickAsync(TrayMenu menu, ITrayIcon? icon, string itemId, CancellationToken cancellationToken)
    {
        try
        {
            await menu.ClickAsync(itemId, cancellationToken);
            // Show the new state at once rather than at the next refresh.
            icon?.Update(menu.Build());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogClickFailed(logger, itemId, ex);
        }
        catch (OperationCanceledException)
        {
            // The host is stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "No tray icon on {System}: it is for Windows; use the control page instead")]
    private static partial void LogNoTray(ILogger logger, string system);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No tray icon: the HTTP server reports no address to put in the menu's URLs")]
    private static partial void LogNoAddress(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "The tray icon stopped; the control page still works")]
    private static partial void LogTrayFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the tray menu")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The tray menu item {ItemId} failed")]
    private static partial void LogClickFailed(ILogger logger, string itemId, Exception exception);
}
