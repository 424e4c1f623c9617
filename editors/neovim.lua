-- glyphsieve for Neovim 0.10+: put in init.lua.
vim.filetype.add({ extension = { rule = "glyphsieve" } })
vim.api.nvim_create_autocmd("FileType", {
  pattern = "glyphsieve",
  callback = function(ev)
    vim.bo[ev.buf].commentstring = "# %s"
    vim.lsp.start({
      name = "glyphsieve",
      cmd = { "glyphsieve", "lsp" },
      root_dir = vim.fs.root(ev.buf, { "glyphsieve.yaml", ".git" }),
    })
  end,
})
