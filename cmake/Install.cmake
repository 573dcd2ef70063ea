# placeholder: replaced by the packaging work
