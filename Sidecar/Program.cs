// Entry point: the command line is wired in Hosting/ (see SidecarCommandLine).
if (OperatingSystem.IsWindows())
{
    // Captions in Spanish, Japanese, ... print on the console: the legacy code page would turn them into '?'.
    Console.OutputEncoding = System.Text.Encoding.UTF8;
}

var exitCode = await CaptionSidecar.Hosting.SidecarCommandLine.RunAsync(args);
// Started by a double-click, a failure's message would vanish with its console window.
await CaptionSidecar.Hosting.ConsoleWindow.HoldOpenOnFailureAsync(exitCode);
return exitCode;
