// Entry point: the command line is wired in Hosting/ (see SidecarCommandLine).
if (OperatingSystem.IsWindows())
{
    // Captions in Spanish, Japanese, ... print on the console: the legacy code page would turn them into '?'.
    Console.OutputEncoding = System.Text.Encoding.UTF8;
}

return await CaptionSidecar.Hosting.SidecarCommandLine.RunAsync(args);
