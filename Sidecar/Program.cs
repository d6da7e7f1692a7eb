// Entry point: the command line is wired in Hosting/ (see SidecarCommandLine).
return await CaptionSidecar.Hosting.SidecarCommandLine.RunAsync(args);
