using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CaptionSidecar.Hosting;

/// <summary>
/// The console window a double-click from Explorer opens: it belongs to the sidecar alone and closes the moment the
/// process exits, so a failure at start (no such input, the port in use, a broken settings file) would flash past
/// unread. Then, and only then, the sidecar waits for Enter before it exits.
/// </summary>
public static class ConsoleWindow
{
    /// <summary>The line shown before waiting.</summary>
    public const string PressEnterToClose = "Press Enter to close this window.";

    /// <summary>
    /// True when the window should stay open: the run failed (<paramref name="exitCode"/> is not 0), the process is
    /// alone on its console (<paramref name="consoleProcessCount"/> is 1: Explorer opened the console for it; a console
    /// shared with cmd or PowerShell counts 2 or more, no console counts 0), and someone can press Enter (the input is
    /// not redirected, as it is for scripts and tests).
    /// </summary>
    public static bool ShouldWaitForEnter(int exitCode, int consoleProcessCount, bool inputRedirected) =>
        exitCode != 0 && consoleProcessCount == 1 && !inputRedirected;

    /// <summary>How many processes share this process's console: 0 without a console (and off Windows).</summary>
    public static int ProcessCount() => OperatingSystem.IsWindows() ? WindowsConsole.ProcessCount() : 0;

    /// <summary>Waits for Enter when <see cref="ShouldWaitForEnter"/> says so; the end of a run, nothing else runs then.</summary>
    public static async Task HoldOpenOnFailureAsync(int exitCode)
    {
        if (!ShouldWaitForEnter(exitCode, ProcessCount(), Console.IsInputRedirected))
        {
            return;
        }

        await Console.Error.WriteLineAsync();
        await Console.Error.WriteLineAsync(PressEnterToClose);
        await Console.In.ReadLineAsync();
    }
}

/// <summary>The one console call .NET does not offer.</summary>
[SupportedOSPlatform("windows")]
internal static partial class WindowsConsole
{
    /// <summary>The number of processes attached to this process's console (0 when it has none).</summary>
    public static int ProcessCount()
    {
        // One slot is enough: only the count is wanted, and it is returned even when the list does not fit.
        Span<uint> ids = stackalloc uint[1];
        return (int)GetConsoleProcessList(ref MemoryMarshal.GetReference(ids), 1);
    }

    [LibraryImport("kernel32.dll")]
    private static partial uint GetConsoleProcessList(ref uint processList, uint processCount);
}
